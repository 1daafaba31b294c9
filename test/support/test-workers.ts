// The run's own supervised workers (test/e2e/global-setup.ts): find their processes, crash one, and see a worker
// polling the run's task queue again. Every kill checks first that the process is a worker of this run's task queue,
// so a test never touches the lab's worker or another run's.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { stack } from './stack';
import { temporalClient } from './temporal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True if `pid` is a Ferry worker process serving `taskQueue` (read from its command line and environment). */
export function isWorkerOf(pid: number, taskQueue: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return cmdline.some((a) => a.endsWith('workers/worker.ts')) && environ.includes(`FERRY_TASK_QUEUE=${taskQueue}`);
  } catch {
    return false;
  }
}

/** SIGKILLs the worker process whose pid is in `processPidFile` (not its supervisor); returns the pid killed. */
export function killWorkerProcess(processPidFile: string): number {
  const pid = readPid(processPidFile);
  if (pid === undefined) throw new Error(`no worker pid in ${processPidFile}`);
  if (!isWorkerOf(pid, stack().taskQueue)) throw new Error(`pid ${pid} is not a worker of ${stack().taskQueue}`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/**
 * SIGKILLs every live worker process of the run (their supervisors restart them); returns the pids killed. A pid
 * file still naming a process that died (its supervisor is waiting to restart it) is passed over.
 */
export function killEveryWorker(): number[] {
  return stack()
    .workerProcessPidFiles.filter((f) => {
      const pid = readPid(f);
      return pid !== undefined && isWorkerOf(pid, stack().taskQueue);
    })
    .map(killWorkerProcess);
}

/** The pids of the workers polling the run's activity task queue (pollers seen in the last minute or so). */
export async function activityPollerPids(): Promise<number[]> {
  const client = await temporalClient();
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: stack().taskQueue },
    taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY (@temporalio/proto is not a dependency of Ferry's own)
  });
  const suffix = `@${hostname()}`;
  return (pollers ?? [])
    .map((p) => p.identity ?? '')
    .filter((id) => id.endsWith(suffix))
    .map((id) => Number(id.slice(0, -suffix.length)));
}

/**
 * Waits until the process in `processPidFile` is a live worker other than `not` and polls the run's task queue;
 * returns its pid and when it was first seen polling.
 */
export async function waitForWorker(
  processPidFile: string,
  timeoutMs: number,
  not?: number,
): Promise<{ pid: number; at: number }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = readPid(processPidFile);
    if (pid !== undefined && pid !== not && isWorkerOf(pid, stack().taskQueue)) {
      if ((await activityPollerPids()).includes(pid)) return { pid, at: Date.now() };
    }
    await sleep(250);
  }
  throw new Error(`no worker (other than ${not}) polled ${stack().taskQueue} within ${timeoutMs} ms`);
}

/**
 * The run's worker that is running `jobid`'s pending activity (of `activityType` if given), from the identity
 * (`pid@host`) Temporal last saw take it; waits up to `timeoutMs` for the activity to be running somewhere. With
 * several workers on the run's task queue, a crash test must kill this one, not whichever started first.
 */
export async function workerRunning(
  jobid: string,
  activityType?: string,
  timeoutMs = 30_000,
): Promise<{ pid: number; processPidFile: string }> {
  const handle = (await temporalClient()).workflow.getHandle(jobid);
  const suffix = `@${hostname()}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    for (const activity of raw.pendingActivities ?? []) {
      if (activityType && activity.activityType?.name !== activityType) continue;
      const identity = activity.lastWorkerIdentity ?? '';
      // State 2 is STARTED: a scheduled activity's last identity is the worker of an earlier attempt.
      if (Number(activity.state) !== 2 || !identity.endsWith(suffix)) continue;
      const pid = Number(identity.slice(0, -suffix.length));
      const processPidFile = stack().workerProcessPidFiles.find((f) => readPid(f) === pid);
      if (processPidFile) return { pid, processPidFile };
    }
    await sleep(100);
  }
  throw new Error(`no worker of ${stack().taskQueue} was running ${activityType ?? 'an activity'} of ${jobid}`);
}

/**
 * SIGKILLs the worker process running `jobid`'s activity (its supervisor restarts it); returns the pid killed and
 * the pid file in which its successor will appear.
 */
export async function killWorkerRunning(
  jobid: string,
  activityType?: string,
): Promise<{ pid: number; processPidFile: string }> {
  const running = await workerRunning(jobid, activityType);
  return { pid: killWorkerProcess(running.processPidFile), processPidFile: running.processPidFile };
}
