// How Ferry logs in to a host of the catalogue: its address, pinned key and (sealed) credential.
import { ApplicationFailure } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { FailureType } from '../core/failures';
import type { Db } from '../db/client';
import { hosts } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import type { HostCredential, HostEndpoint } from '../ssh/executor';

export type HostRow = typeof hosts.$inferSelect;

export async function loadHost(db: Db, hostId: string): Promise<HostRow> {
  const [host] = await db.select().from(hosts).where(eq(hosts.id, hostId));
  if (!host) throw ApplicationFailure.nonRetryable(`host ${hostId} no longer exists`, FailureType.NotFound);
  return host;
}

export function endpointOf(host: HostRow, secrets: SecretBox): HostEndpoint {
  let credential: HostCredential = { kind: 'ferry-key' };
  if (host.credentialKind !== 'ferry-key') {
    if (!host.credentialCiphertext) throw new Error(`host ${host.name} has no stored credential`);
    const secret = secrets.open(host.credentialCiphertext);
    credential =
      host.credentialKind === 'password'
        ? { kind: 'password', password: secret }
        : { kind: 'private-key', privateKey: secret };
  }
  return {
    address: host.address,
    port: host.sshPort,
    username: host.username,
    hostKeyFingerprint: host.hostKeyFingerprint,
    credential,
  };
}
