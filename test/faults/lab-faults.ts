// The faults the harness injects into a running job, each on the real lab: the run's worker SIGKILLed, the job
// cancelled or terminated through Temporal, a lab service stopped or restarted (`./ferry service`), a host's sshd
// killed. Each returns once the fault is over (the service or sshd is back), so the trial then waits for the job.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ferryRoot } from '../../lab/lab-layout';
import { startTestWorker } from '../e2e/global-setup';
import { killLabSshd, startLabSshd } from '../support/lab-hosts';
import { stack } from '../support/stack';
import { temporalClient } from '../support/temporal';

export type FaultKind = 'kill' | 'cancel' | 'terminate' | 's3-outage' | 'pg-restart' | 'temporal-restart' | 'sshd-kill';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const pidIn = (file: string) => {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return 0; // between a process's end and its restart
  }
};

/**
 * Waits for the run's worker to be running again: its supervisor restarts it by itself (lab/supervise.sh); only if
 * the supervisor is gone too is a new supervised worker started here.
 */
export async function ensureWorker(killed = 0, ms = 30_000): Promise<void> {
  const { workerEnv, logFile, workerPidFile, workerProcessPidFile } = stack();
  if (!alive(pidIn(workerPidFile))) startTestWorker(workerEnv, logFile, workerPidFile);
  const end = Date.now() + ms;
  for (;;) {
    const pid = pidIn(workerProcessPidFile);
    if (pid && pid !== killed && alive(pid)) return;
    if (Date.now() > end) throw new Error(`the worker was not back within ${ms} ms`);
    await sleep(200);
  }
}

/** SIGKILL to the run's worker process (never the lab's own worker), as a crash would; returns its pid. */
export function killWorker(): number {
  const pid = pidIn(stack().workerProcessPidFile);
  try {
    if (pid) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return pid;
}

export function labService(action: 'stop' | 'start' | 'restart', name: string): void {
  execFileSync(join(ferryRoot, 'ferry'), ['service', action, name], { stdio: 'ignore', timeout: 180_000 });
}

/** The host whose sshd a job of each type needs mid-copy (undefined: the job uses no host). */
export interface FaultTarget {
  jobid: string;
  sshdHost?: string;
}

export async function injectFault(kind: FaultKind, target: FaultTarget): Promise<void> {
  const handle = (await temporalClient()).workflow.getHandle(target.jobid);
  switch (kind) {
    case 'kill':
      await ensureWorker(killWorker());
      return;
    case 'cancel':
      await handle.cancel();
      return;
    case 'terminate':
      await handle.terminate('fault harness: terminated mid-job');
      return;
    case 's3-outage':
      labService('stop', 'seaweedfs');
      await sleep(30_000);
      labService('start', 'seaweedfs');
      return;
    case 'pg-restart':
      labService('restart', 'postgres');
      return;
    case 'temporal-restart':
      labService('restart', 'temporal');
      return;
    case 'sshd-kill':
      if (!target.sshdHost) return;
      killLabSshd(target.sshdHost);
      await sleep(10_000);
      startLabSshd(target.sshdHost);
      return;
  }
}

/** What `./ferry doctor --json` reports (the contract). */
export interface DoctorReport {
  orphans: Record<string, number>;
  lying: number;
  repaired?: Record<string, number>;
}

/** Runs the doctor over this run's catalogue (its database, its stores), repairing if asked, with no grace period. */
export function doctor(repair: boolean): DoctorReport {
  const args = ['doctor', '--json', '--grace', '0', ...(repair ? ['--repair'] : [])];
  const out = execFileSync(join(ferryRoot, 'ferry'), args, {
    env: { ...process.env, ...stack().workerEnv, DATABASE_URL: stack().databaseUrl },
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = out.slice(out.indexOf('{'));
  return JSON.parse(json) as DoctorReport;
}

export const orphanCount = (report: DoctorReport) => Object.values(report.orphans).reduce((a, b) => a + b, 0);
