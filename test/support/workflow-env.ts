// Workflow tests without the lab: Temporal's time-skipping test server (lab/requirements.txt puts it in the tools
// venv), Ferry's real workflow bundle, and a worker per test whose activities are the test's mocks.
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, IllegalStateError } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkerOptions,
  type WorkflowBundle,
} from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import type { Activities } from '../../activities';
import { workflowsPath } from '../../workers/ferry-worker';

/** The activities a test provides; any other one the workflow calls fails the test with its name. */
export type MockActivities = Partial<Activities>;

export interface WorkflowRun {
  /** Client of the time-skipping server: awaiting a workflow's result skips its timers and retry back-offs. */
  client: Client;
  /** The worker's task queue, fresh for each run. */
  taskQueue: string;
  testEnv: TestWorkflowEnvironment;
}

/** Worker settings a test may change: how soon a heartbeat delivers a cancellation, how many activities at once. */
export type WorkerTuning = Pick<
  WorkerOptions,
  'defaultHeartbeatThrottleInterval' | 'maxHeartbeatThrottleInterval' | 'maxConcurrentActivityTaskExecutions'
>;

export interface WorkflowEnv {
  /** Runs `body` while a worker with `mocks` as its activities polls a fresh task queue. */
  run<T>(mocks: MockActivities, body: (run: WorkflowRun) => Promise<T>, tuning?: WorkerTuning): Promise<T>;
}

const serverBinary = 'temporal-test-server';

/** The test server on PATH (./ferry puts the tools venv there), else in the venv lab/install.sh makes. */
function testServerPath(): string {
  const tools = process.env.FERRY_TOOLS ?? '/opt/ferry-tools';
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), join(tools, 'venv/bin')];
  for (const dir of candidates) {
    const path = join(dir, serverBinary);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error(`${serverBinary} not found on PATH or in ${tools}/venv/bin: run ./ferry test --fast to install it`);
}

function installQuietRuntime(): void {
  try {
    Runtime.install({
      // Tests fail workflows on purpose; the worker's warnings about each would bury the test report.
      logger: new DefaultLogger('ERROR'),
      // Core warns when a cancelled activity reports back after its workflow ended, which cancel tests do on purpose.
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch (err) {
    // Already installed in this process (by another suite): keep that one.
    if (!(err instanceof IllegalStateError)) throw err;
  }
}

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Starts one time-skipping server and bundles the workflows once for the calling test file (beforeAll), and stops
 * the server after it (afterAll). Time skipping is global to the server, so the file's tests must run one at a time.
 */
export function useWorkflowEnv(): WorkflowEnv {
  let testEnv: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundle | undefined;

  beforeAll(async () => {
    installQuietRuntime();
    [testEnv, bundle] = await Promise.all([
      TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: testServerPath() } },
      }),
      bundleWorkflowCode({ workflowsPath, logger: quiet }),
    ]);
  });

  afterAll(async () => {
    await testEnv?.teardown();
  });

  return {
    async run<T>(mocks: MockActivities, body: (run: WorkflowRun) => Promise<T>, tuning: WorkerTuning = {}): Promise<T> {
      if (!testEnv || !bundle) {
        throw new Error('useWorkflowEnv(): the environment is not started (call it at file level)');
      }
      const taskQueue = `workflow-test-${randomUUID()}`;
      const missing = new Set<string>();
      const worker = await Worker.create({
        connection: testEnv.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        // One test runs one workflow at a time; each extra thread loads the bundle again (~0.7 s).
        workflowThreadPoolSize: 1,
        ...tuning,
        activities: {
          ...mocks,
          // Called for any activity type not registered above: remembered, and failed so no retry hides it.
          default: () => {
            const { activityType } = Context.current().info;
            missing.add(activityType);
            throw ApplicationFailure.nonRetryable(`no mock for activity ${activityType}`, 'MissingActivityMock');
          },
        },
      });
      const unmocked = () => `the workflow called activities this test did not mock: ${[...missing].join(', ')}`;
      const result = await worker
        .runUntil(body({ client: testEnv.client, taskQueue, testEnv }))
        .catch((err: unknown) => {
          throw missing.size > 0 ? new Error(unmocked(), { cause: err }) : err;
        });
      if (missing.size > 0) throw new Error(unmocked());
      return result;
    },
  };
}

/** The cause of the WorkflowFailedError a run's result rejects with: what its caller is told. Throws if it succeeded. */
export async function failureOf(result: Promise<unknown>): Promise<unknown> {
  try {
    await result;
  } catch (err) {
    if (err instanceof WorkflowFailedError) return err.cause;
    throw err;
  }
  throw new Error('the workflow succeeded where the test expected it to fail');
}
