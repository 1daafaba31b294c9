// Acting on the lab's simulated hosts from tests: run a command through a host's sshd (pinned key, as Ferry does),
// and kill or restart a host's sshd to simulate a host going away.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ferryHome, hostKeyFile, labHostUser } from '../../lab/lab-layout';
import { createSshExecutor, type CommandResult, type HostEndpoint, type SshExecutor } from '../../ssh/executor';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import { labHost } from './stack';

/** An SSH executor with Ferry's lab key, as the worker builds one. */
export function labSsh(): SshExecutor {
  return createSshExecutor({
    ferryPrivateKey: readFileSync(join(ferryHome, 'keys', 'ferry_ed25519')),
    connectTimeoutMs: 10_000,
  });
}

/** How Ferry reaches the lab host `name`: its address, the lab user, its pinned key. */
export async function labHostEndpoint(name: string): Promise<HostEndpoint> {
  const host = labHost(name);
  return {
    address: host.address,
    port: host.port,
    username: labHostUser,
    hostKeyFingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(name)),
    credential: { kind: 'ferry-key' },
  };
}

export async function runOnLabHost(name: string, argv: readonly string[]): Promise<CommandResult> {
  return await labSsh().withSession(await labHostEndpoint(name), (session) => session.run(argv));
}

const hostDir = (name: string) => join(ferryHome, 'hosts', name);

/** Kills the host's sshd and every session it serves, as a host crash would. */
export function killLabSshd(name: string): void {
  const pid = readFileSync(join(hostDir(name), 'sshd.pid'), 'utf8').trim();
  const descendants = (parent: string): string[] => {
    let children: string[] = [];
    try {
      children = execFileSync('pgrep', ['-P', parent], { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      // no children
    }
    return children.flatMap((c) => [c, ...descendants(c)]);
  };
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function startLabSshd(name: string): void {
  execFileSync('/usr/sbin/sshd', [
    '-f',
    join(hostDir(name), 'sshd_config'),
    '-E',
    join(ferryHome, 'log', `host-${name}.log`),
  ]);
}
