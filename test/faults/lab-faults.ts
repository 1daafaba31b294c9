// The faults the harness injects into a running job, each on the real lab: the run's worker SIGKILLed, the job
// cancelled or terminated through Temporal, a lab service stopped or restarted (`./ferry service`), a host's sshd
// killed. Each returns once the fault is over (the service or sshd is back), so the trial then waits for the job.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError } from '@temporalio/client';
import { join } from 'node:path';
import { ferryRoot } from '../../lab/lab-layout';
import { startTestWorker } from '../e2e/global-setup';
import { killLabSshd, startLabSshd } from '../support/lab-hosts';
import { stack } from '../support/stack';
import { temporalClient } from '../support/temporal';
import type { DoctorReport as FullDoctorReport, reconcileCatalogue } from '../../workflows/reconcile-catalogue';

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

/** A cancel or terminate that arrives after the job ended does nothing (the trial reports the fault as late). */
function ignoreEnded(err: unknown): void {
  if (!(err instanceof WorkflowNotFoundError)) throw err;
}

export async function injectFault(kind: FaultKind, target: FaultTarget): Promise<void> {
  const handle = (await temporalClient()).workflow.getHandle(target.jobid);
  switch (kind) {
    case 'kill':
      await ensureWorker(killWorker());
      return;
    case 'cancel':
      await handle.cancel().catch(ignoreEnded);
      return;
    case 'terminate':
      await handle.terminate('fault harness: terminated mid-job').catch(ignoreEnded);
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

/** The doctor's report (what `./ferry doctor --json` prints). */
export type DoctorReport = Pick<FullDoctorReport, 'orphans' | 'lying' | 'repaired' | 'missing' | 'undecided'>;

/**
 * Runs the doctor (the workflow `./ferry doctor` runs) on this run's worker, so it judges this run's catalogue, with
 * no grace period; repairing if asked. Started from here rather than through the CLI: the same run, seconds sooner.
 */
export async function doctor(repair: boolean): Promise<DoctorReport> {
  return await (
    await temporalClient()
  ).workflow.execute<typeof reconcileCatalogue>('reconcileCatalogue', {
    workflowId: `ferry-doctor-faults-${randomUUID()}`,
    taskQueue: stack().taskQueue,
    args: [{ repair, graceSeconds: 0 }],
    workflowExecutionTimeout: '10 minutes',
  });
}

export const orphanCount = (report: DoctorReport) => Object.values(report.orphans).reduce((a, b) => a + b, 0);
