// A host command cancelled through its abort signal (as runOrFail passes an activity's cancellation) must stop on the
// host, not only stop being waited for: a cancelled job's curl, qemu-img or part upload must not live on after it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ferryHome, hostKeyFile, labHostUser } from '../../lab/lab-layout';
import { CommandAbortedError } from '../../ssh/errors';
import { createSshExecutor } from '../../ssh/executor';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import { labHost } from '../support/stack';

/** Processes on this machine (the lab's hosts run here) whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a host command cancelled through its signal', () => {
  it('stops on the host within a few seconds', async () => {
    const host = labHost('kvm-a1');
    const ssh = createSshExecutor({
      ferryPrivateKey: readFileSync(join(ferryHome, 'keys', 'ferry_ed25519')),
      connectTimeoutMs: 10_000,
    });
    const endpoint = {
      address: host.address,
      port: host.port,
      username: labHostUser,
      hostKeyFingerprint: await fingerprintOfPublicKeyFile(hostKeyFile('kvm-a1')),
      credential: { kind: 'ferry-key' as const },
    };
    // A unique duration marks the command (30 s: long enough that only a stop ends it within the test).
    const marker = `30.${process.pid}${Date.now() % 100_000}`;
    const cancel = new AbortController();
    const stopped = ssh.withSession(endpoint, (session) =>
      session.run(['sleep', marker], { signal: cancel.signal, timeoutMs: 60_000 }),
    );
    let running: string[] = [];
    for (let i = 0; i < 100 && running.length === 0; i++) {
      await sleep(50);
      running = processesWith(marker);
    }
    expect(running.length, 'the command runs on the host').toBeGreaterThan(0);
    cancel.abort();
    await expect(stopped).rejects.toBeInstanceOf(CommandAbortedError);
    for (let i = 0; i < 30 && running.length > 0; i++) {
      await sleep(100);
      running = processesWith(marker);
    }
    expect(running, 'still running on the host 3 s after the cancel').toEqual([]);
  });
});
