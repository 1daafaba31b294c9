// A host command cancelled through its abort signal (as runOrFail passes an activity's cancellation) must stop on the
// host, not only stop being waited for: a cancelled job's curl, qemu-img or part upload must not live on after it.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CommandAbortedError } from '../../ssh/errors';
import { labHostEndpoint, labSsh } from '../support/lab-hosts';

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
    const ssh = labSsh();
    const endpoint = await labHostEndpoint('kvm-a1');
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
