// Many plan-running workflows on one worker: mocked activities that record every call (name, input, how it ended),
// each workflow scripted by its id (fail the n-th call, or hold it until the workflow is cancelled), all run side by
// side so a file's whole matrix of success, failure and cancel runs costs one worker and a few seconds.
import { CancelledFailure, Context } from '@temporalio/activity';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PlanWorkflow } from '../workflows/plans';
import type { MockActivities, WorkflowEnv, WorkerTuning } from './workflow-env';

/** The failure every scripted step throws: final, so no retry hides it. */
export const boom = () => ApplicationFailure.nonRetryable('boom', 'HostCommandFailed');

export interface CallRecord {
  name: string;
  input: Record<string, unknown>;
  /** Order of this call's start and end among all of its workflow's call events. */
  startedAt: number;
  endedAt?: number;
  end?: 'ok' | 'threw' | 'cancelled';
}

export interface Script {
  /** The call (0-based, in the order the workflow makes them) that throws `boom`. */
  failAt?: number;
  /** Any call this says yes to throws `boom` (for plans that run side by side, whose calls interleave). */
  failWhen?: (name: string, input: Record<string, unknown>) => boolean;
  /** The call that waits, heartbeating, until its activity is cancelled; the run cancels the workflow meanwhile. */
  cancelAt?: number;
  /** The `cancelAt` call ignores the cancellation and completes a moment later (a database write that lands). */
  landsAnyway?: boolean;
  /** What reserveCacheSpace finds on the cache store. */
  cacheObject?: 'Creating' | 'Ready';
}

/** What the mocked activities return: fixed facts, each transfer its own, so a test can tell whose were recorded. */
export const results = {
  download: { size: 1001, sha256: 'sha-download', format: 'QCOW2', resumedParts: 0, partsSent: 1 },
  stream: { size: 1002, sha256: 'sha-stream', format: 'QCOW2', resumedParts: 0, partsSent: 1 },
  push: { size: 1003, sha256: 'sha-push', resumedParts: 0, partsSent: 2 },
  copyWithin: { size: 1004 },
  copyToPath: { size: 1005, sha256: 'sha-copy' },
  fetchConvert: { virtualSize: 1006, physicalSize: 2006 },
  blank: { size: 1007 },
  snapshot: { handle: 'ferry-snap', size: 1008 },
  exported: { poolId: 'pool', hostId: 'host', fileName: 'export', temporary: true, physicalSize: 1009 },
} as const;

export const leaseIdOf = (storeId: string, key: string) => `lease:${storeId}/${key}`;
export const urlOf = (key: string) => `http://127.0.0.1:9/download/${key}`;

/** How long a held call waits for a cancellation that does not come (the commit, clean-up) before it completes. */
const HOLD_MS = 1500;
/** How long a call that ignores its cancellation takes to land. */
const LANDS_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The workflow whose activity is running: every call is scripted and recorded by it. */
function workflowIdOf(): string {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('these mocks serve workflow activities only');
  return execution.workflowId;
}

export class ActivityLog {
  private readonly calls = new Map<string, CallRecord[]>();
  private readonly scripts = new Map<string, Script>();
  private readonly held = new Map<string, () => void>();
  private clock = 0;

  script(workflowId: string, script: Script): void {
    this.scripts.set(workflowId, script);
  }

  callsOf(workflowId: string): CallRecord[] {
    return this.calls.get(workflowId) ?? [];
  }

  /** Resolves once the workflow's `cancelAt` call has started. */
  whenHeld(workflowId: string): Promise<void> {
    return new Promise((resolve) => this.held.set(workflowId, () => resolve()));
  }

  private async call<T>(name: string, input: object, value: () => T): Promise<T> {
    const workflowId = workflowIdOf();
    const calls = this.calls.get(workflowId) ?? [];
    this.calls.set(workflowId, calls);
    const index = calls.length;
    const record: CallRecord = { name, input: { ...input }, startedAt: this.clock++ };
    calls.push(record);
    const script = this.scripts.get(workflowId) ?? {};
    try {
      if (script.failAt === index || script.failWhen?.(name, record.input)) throw boom();
      if (script.cancelAt === index) await this.hold(workflowId, script.landsAnyway === true);
      const result = value();
      record.end = 'ok';
      return result;
    } catch (err) {
      record.end = err instanceof CancelledFailure ? 'cancelled' : 'threw';
      throw err;
    } finally {
      record.endedAt = this.clock++;
    }
  }

  /** Heartbeats (which deliver a cancellation) until cancelled, then rethrows; completes if no cancel comes. */
  private async hold(workflowId: string, landsAnyway: boolean): Promise<void> {
    this.held.get(workflowId)?.();
    if (landsAnyway) {
      await sleep(LANDS_MS);
      return;
    }
    const context = Context.current();
    const beat = setInterval(() => context.heartbeat(), 100);
    try {
      await Promise.race([context.cancelled, sleep(HOLD_MS)]);
    } finally {
      clearInterval(beat);
    }
  }

  /** Every activity a plan's steps, undos and clean-up can call. */
  mocks(): MockActivities {
    const reserved = () => this.scripts.get(workflowIdOf())?.cacheObject ?? 'Creating';
    return {
      downloadToStore: (i) => this.call('downloadToStore', i, () => ({ ...results.download })),
      streamBetweenStores: (i) => this.call('streamBetweenStores', i, () => ({ ...results.stream })),
      hostPush: (i) => this.call('hostPush', i, () => ({ ...results.push })),
      copyWithinStore: (i) => this.call('copyWithinStore', i, () => ({ ...results.copyWithin })),
      hostCopyToPath: (i) => this.call('hostCopyToPath', i, () => ({ ...results.copyToPath })),
      hostFetchConvert: (i) => this.call('hostFetchConvert', i, () => ({ ...results.fetchConvert })),
      createBlankDisk: (i) => this.call('createBlankDisk', i, () => ({ ...results.blank })),
      snapshotOnPrimary: (i) => this.call('snapshotOnPrimary', i, () => ({ ...results.snapshot })),
      exportSnapshotFile: (i) => this.call('exportSnapshotFile', i, () => ({ ...results.exported })),
      extractUrl: (i) => this.call('extractUrl', i, () => urlOf(i.key)),
      removeStoreObject: (i) => this.call('removeStoreObject', i, () => undefined),
      removePoolFile: (i) => this.call('removePoolFile', i, () => undefined),
      removePoolFileOf: (i) => this.call('removePoolFileOf', i, () => undefined),
      removeSnapshotOnPrimary: (i) => this.call('removeSnapshotOnPrimary', i, () => undefined),
      removeSnapshotExport: (i) => this.call('removeSnapshotExport', i, () => undefined),
      applyTransitions: (i) => this.call('applyTransitions', i, () => undefined),
      reserveCacheSpace: (i) =>
        this.call('reserveCacheSpace', i, () => ({ leaseId: leaseIdOf(i.storeId, i.key), objectState: reserved() })),
      markCacheObjectReady: (i) => this.call('markCacheObjectReady', i, () => undefined),
      releaseCacheLease: (i) => this.call('releaseCacheLease', i, () => undefined),
      releaseCacheLeaseOf: (i) => this.call('releaseCacheLeaseOf', i, () => undefined),
      removeTemplateIfEmpty: (i) => this.call('removeTemplateIfEmpty', i, () => true),
    };
  }
}

export interface RunSpec {
  workflowId: string;
  workflow: PlanWorkflow;
  input: unknown;
  script: Script;
}

export interface RunResult {
  status: string;
  result?: unknown;
  /** What the result rejected with (a WorkflowFailedError). */
  error?: unknown;
  calls: CallRecord[];
}

/** Cancels get through within a heartbeat or two, also for activities without a heartbeat timeout. */
const tuning: WorkerTuning = {
  defaultHeartbeatThrottleInterval: '50 ms',
  maxHeartbeatThrottleInterval: '50 ms',
  maxConcurrentActivityTaskExecutions: 500,
};

/** `promise`, or `undefined` if it takes longer than `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cancels once the held call has started (if the run holds one), and waits for the end; a stuck run is stopped. */
async function runOne(handle: WorkflowHandle, held?: Promise<void>): Promise<Omit<RunResult, 'calls'>> {
  if (held) {
    if (
      (await within(
        20_000,
        held.then(() => true),
      )) === undefined
    ) {
      await handle.terminate('the call to cancel in was never made');
      return { status: 'NEVER_HELD' };
    }
    await handle.cancel();
  }
  const ended = handle.result().then(
    (result: unknown) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  const end = await within(60_000, ended);
  if (!end) {
    await handle.terminate('the run did not end');
    return { status: 'STUCK' };
  }
  return { status: (await handle.describe()).status.name, ...end };
}

/**
 * Runs every spec on one worker, `parallel` at a time (more does not go faster on two cores, and far more stalls the
 * test server); the calls are read once the worker has stopped, so a cancelled call's end is final.
 */
export async function runAll(env: WorkflowEnv, specs: RunSpec[], parallel = 12): Promise<Map<string, RunResult>> {
  const log = new ActivityLog();
  for (const spec of specs) log.script(spec.workflowId, spec.script);
  const ended = new Map<string, Omit<RunResult, 'calls'>>();
  await env.run(
    log.mocks(),
    async ({ taskQueue, testEnv }) => {
      // A plain client, not the environment's: awaiting a result through that one lets the server skip time, and
      // skipping while a sibling run's activity is in flight times that activity out (these runs need no timers).
      const client = new Client({ connection: testEnv.connection, namespace: testEnv.namespace });
      const queue = [...specs];
      const lane = async () => {
        for (let spec = queue.shift(); spec; spec = queue.shift()) {
          const held = spec.script.cancelAt !== undefined ? log.whenHeld(spec.workflowId) : undefined;
          const handle = await client.workflow.start(spec.workflow, {
            taskQueue,
            workflowId: spec.workflowId,
            args: [spec.input],
          });
          ended.set(spec.workflowId, await runOne(handle, held));
        }
      };
      await Promise.all(Array.from({ length: parallel }, lane));
    },
    tuning,
  );
  return new Map(specs.map((s) => [s.workflowId, { ...ended.get(s.workflowId)!, calls: log.callsOf(s.workflowId) }]));
}
