import { and, eq, type SQL } from 'drizzle-orm';
import { hosts } from '../../db/schema';
import { findHypervisor } from '../../plugins/hypervisors/registry';
import { FINGERPRINT_PATTERN } from '../../ssh/fingerprint';
import type { AddHostInput } from '../../workflows/add-host';
import { defineCommand } from '../command';
import { notFound, paramError } from '../errors';
import { startJob } from '../jobs';
import { listResponse } from '../list';
import { listParams, must, optional, ParamFormatError, required } from '../params';
import { hostView, loadNames } from '../views/inventory';
import { clusterById } from './lookup';
import { isUniqueViolation } from './unique';

export const listHosts = defineCommand({
  name: 'listHosts',
  description: 'Lists hosts',
  isAsync: false,
  params: {
    id: optional.uuid('the id of the host'),
    name: optional.string('the name of the host'),
    zoneid: optional.uuid('the Zone ID for the host'),
    podid: optional.uuid('the Pod ID for the host'),
    clusterid: optional.uuid('lists hosts existing in particular cluster'),
    state: optional.string('the state of the host'),
    type: optional.string('the host type (Routing)'),
    hypervisor: optional.string('hypervisor type of host'),
    ...listParams,
  },
  async handle(p, { db }) {
    const where: SQL[] = [];
    if (p.id) where.push(eq(hosts.id, p.id));
    if (p.name) where.push(eq(hosts.name, p.name));
    if (p.zoneid) where.push(eq(hosts.zoneId, p.zoneid));
    if (p.podid) where.push(eq(hosts.podId, p.podid));
    if (p.clusterid) where.push(eq(hosts.clusterId, p.clusterid));
    if (p.hypervisor) where.push(eq(hosts.hypervisor, findHypervisor(p.hypervisor)?.hypervisor ?? p.hypervisor));
    const rows = await db
      .select()
      .from(hosts)
      .where(and(...where))
      .orderBy(hosts.name);
    const names = await loadNames(db);
    // Every host Ferry manages is a hypervisor (CloudStack's type Routing).
    const views = p.type && p.type.toLowerCase() !== 'routing' ? [] : rows.map((r) => hostView(r, names));
    return listResponse(
      'host',
      views.filter((h) => !p.state || h.state.toLowerCase() === p.state.toLowerCase()),
      p,
    );
  },
});

/** ssh://address[:port] — the only way Ferry reaches a hypervisor host. */
function parseHostUrl(url: string): { address: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw paramError(`Host url ${url} is malformed; use ssh://address:port.`);
  }
  if (parsed.protocol !== 'ssh:' || !parsed.hostname || parsed.pathname !== '' || parsed.username) {
    throw paramError(`Host url ${url} is not supported; use ssh://address:port.`);
  }
  return { address: parsed.hostname.replace(/^\[|\]$/g, ''), port: parsed.port ? Number(parsed.port) : 22 };
}

export const addHost = defineCommand({
  name: 'addHost',
  description:
    'Adds a hypervisor host. Ferry connects over SSH, verifies the pinned host key, checks the tools, then marks it Up',
  isAsync: true,
  secretParams: ['password', 'sshkey'],
  params: {
    clusterid: required.uuid('the cluster ID for the host'),
    hypervisor: required.string('hypervisor type of the host: KVM, XenServer or VMware'),
    url: required.url('the host URL, ssh://address:port'),
    username: required.string('the username for the host'),
    hostkeyfingerprint: required.string(
      'the SHA256 fingerprint of the host key (SHA256:...), as ssh-keygen -lf prints',
      (v) => {
        if (!FINGERPRINT_PATTERN.test(v)) throw new ParamFormatError('SHA256:<43 base64 characters>');
      },
    ),
    zoneid: optional.uuid("the Zone ID for the host (must be the cluster's)"),
    podid: optional.uuid("the Pod ID for the host (must be the cluster's)"),
    password: optional.string('the password for the host'),
    sshkey: optional.privateKey(
      "an unencrypted private key (OpenSSH or PEM) to log in with, instead of Ferry's own key",
    ),
    name: optional.string('the name of the host (default: the address of the url)', must.beName),
  },
  async handle(p, ctx) {
    const { db, secrets } = ctx;
    const cluster = await clusterById(db, p.clusterid);
    if (p.zoneid && p.zoneid !== cluster.zoneId)
      throw paramError(`Cluster ${cluster.name} is not in zone ${p.zoneid}.`);
    if (p.podid && p.podid !== cluster.podId) throw paramError(`Cluster ${cluster.name} is not in pod ${p.podid}.`);
    const adapter = findHypervisor(p.hypervisor);
    if (!adapter) throw paramError(`Hypervisor ${p.hypervisor} is not supported; use KVM, XenServer or VMware.`);
    if (adapter.hypervisor !== cluster.hypervisor) {
      throw paramError(
        `Cluster ${cluster.name} is a ${cluster.hypervisor} cluster; a ${adapter.hypervisor} host cannot join it.`,
      );
    }
    if (p.password && p.sshkey) throw paramError('Give either password or sshkey, not both.');
    const { address, port } = parseHostUrl(p.url);
    const name = p.name ?? address;
    const credentialKind = p.password ? 'password' : p.sshkey ? 'private-key' : 'ferry-key';
    const secret = p.password ?? p.sshkey;

    let hostId: string;
    try {
      const [row] = await db
        .insert(hosts)
        .values({
          name,
          zoneId: cluster.zoneId,
          podId: cluster.podId,
          clusterId: cluster.id,
          hypervisor: adapter.hypervisor,
          address,
          sshPort: port,
          username: p.username,
          credentialKind,
          credentialCiphertext: secret ? secrets.seal(secret) : null,
          hostKeyFingerprint: p.hostkeyfingerprint,
        })
        .returning({ id: hosts.id });
      hostId = row!.id;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw paramError(
          `A host named ${name} already exists; delete it with deleteHost first or choose another name.`,
        );
      }
      throw err;
    }
    const input: AddHostInput = { hostId, connectAttempts: ctx.config.ssh.connectAttempts };
    try {
      const jobid = await startJob(ctx, {
        workflowType: 'addHost',
        summary: `addHost ${name} (${adapter.hypervisor}, ${address}:${port}) → cluster ${cluster.name}`,
        args: [input],
        instanceType: 'Host',
        instanceId: hostId,
        zoneId: cluster.zoneId,
        request: {
          clusterid: p.clusterid,
          hypervisor: adapter.hypervisor,
          url: p.url,
          username: p.username,
          name,
          hostkeyfingerprint: p.hostkeyfingerprint,
        },
      });
      return { jobid, id: hostId };
    } catch (err) {
      await db.delete(hosts).where(eq(hosts.id, hostId));
      throw err;
    }
  },
});

export const deleteHost = defineCommand({
  name: 'deleteHost',
  description: 'Deletes a host',
  isAsync: false,
  params: {
    id: required.uuid('the host ID'),
    forced: optional.boolean('force delete the host even if it is Up'),
  },
  async handle(p, { db }) {
    const [host] = await db.select().from(hosts).where(eq(hosts.id, p.id));
    if (!host) throw notFound('Host', p.id);
    if (host.state === 'Up' && !p.forced) {
      throw paramError(`Host ${host.name} is Up; pass forced=true to delete it anyway.`);
    }
    await db.delete(hosts).where(eq(hosts.id, p.id));
    return { success: true };
  },
});
