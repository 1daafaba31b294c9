// Builds Ferry's worker: the workflow bundle plus activities over real clients (PostgreSQL, SSH).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { readCacheReplacementSettings } from '../activities/cache-leases';
import { temporalJobStatus } from '../activities/job-status';
import { findSetting } from '../core/settings';
import { readSetting } from '../db/settings';
import { createDownloadLinks } from '../core/download-links';
import { createReadiness } from '../core/readiness';
import { createHealthServer } from '../net/health-endpoints';
import { sql } from 'drizzle-orm';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDb, type DbHandle } from '../db/client';
import { createSharedHostSlots } from '../activities/host-session-slots';
import { createSecretBox } from '../db/secret-box';
import { createSshExecutor } from '../ssh/executor';
import type { FerryConfig } from '../temporal.config';
import { FerryCommand } from '../core/search-attributes';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** One eviction schedule per task queue, so a test run's worker never runs the lab's (or the other way round). */
export const evictionScheduleId = (taskQueue: string) =>
  taskQueue === 'ferry' ? 'ferry-evict-cache' : `ferry-evict-cache-${taskQueue}`;

/**
 * Creates, or brings up to date, the schedule that runs evictCache every storage.cache.replacement.interval seconds
 * (a new interval applies at the next worker start; enabled and the LRU age are read by each run).
 */
export async function ensureEvictionSchedule(config: FerryConfig, db: DbHandle['db']): Promise<void> {
  const { intervalSeconds } = await readCacheReplacementSettings(db);
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const scheduleId = evictionScheduleId(config.temporal.taskQueue);
    const spec = { intervals: [{ every: `${intervalSeconds}s` }] };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'evictCache',
      workflowId: scheduleId,
      taskQueue: config.temporal.taskQueue,
      args: [{}],
      // A run nobody picks up (its worker gone for good) ends instead of waiting forever.
      workflowExecutionTimeout: `${intervalSeconds}s`,
      typedSearchAttributes: [{ key: FerryCommand, value: 'evictCache' }],
      staticSummary: `evictCache: cache stores, every ${intervalSeconds} s`,
    };
    try {
      await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
    }
  } finally {
    await connection.close();
  }
}

/** One doctor schedule per task queue, like eviction: a test run's doctor judges its own catalogue only. */
export const doctorScheduleId = (taskQueue: string) =>
  taskQueue === 'ferry' ? 'ferry-doctor' : `ferry-doctor-${taskQueue}`;

async function doctorSettings(db: DbHandle['db']) {
  const value = async (name: string) => (await readSetting(db, name)) || findSetting(name)!.defaultValue;
  return {
    intervalSeconds: Number(await value('storage.doctor.interval')),
    repair: (await value('storage.doctor.repair')) === 'true',
    graceSeconds: Number(await value('storage.doctor.grace')),
  };
}

/**
 * Creates, or brings up to date, the schedule that runs reconcileCatalogue every storage.doctor.interval seconds
 * (the settings apply at the next worker start). Each run's result is its report, in the Temporal UI.
 */
export async function ensureDoctorSchedule(client: Client, config: FerryConfig, db: DbHandle['db']): Promise<void> {
  const { intervalSeconds, repair, graceSeconds } = await doctorSettings(db);
  const scheduleId = doctorScheduleId(config.temporal.taskQueue);
  const spec = { intervals: [{ every: `${intervalSeconds}s` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileCatalogue',
    workflowId: scheduleId,
    taskQueue: config.temporal.taskQueue,
    args: [{ repair, graceSeconds }],
    workflowExecutionTimeout: `${intervalSeconds}s`,
    typedSearchAttributes: [{ key: FerryCommand, value: 'reconcileCatalogue' }],
    staticSummary:
      `doctor: the catalogue against every store, pool and cache, every ${intervalSeconds} s, ` +
      (repair ? `repairing what is orphaned for over ${graceSeconds} s` : 'report only'),
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
}

export interface FerryWorker {
  worker: Worker;
  /** The port answering /healthz and /readyz, when FERRY_WORKER_HEALTH_PORT is set. */
  healthPort?: number;
  /** Runs until shutdown() and then releases every client. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createFerryWorker(config: FerryConfig): Promise<FerryWorker> {
  const dbHandle: DbHandle = openDb(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const ssh = createSshExecutor({
    ferryPrivateKey: await readFile(config.ssh.privateKeyFile),
    connectTimeoutMs: config.ssh.connectTimeoutMs,
    // Counted in the database, so the limit holds across every worker and the API, not per process.
    slots: createSharedHostSlots(dbHandle.db, {
      limit: config.ssh.maxSessionsPerHost,
      onRenewFailed: (host, reason) => console.warn(`host session slot of ${host} not renewed: ${reason}`),
    }),
  });
  const links = createDownloadLinks(config.masterKey, config.api.publicUrl);
  // A client of Temporal for the doctor's questions (is this job still running?) and the doctor's schedule.
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const activities = createActivities({
    db: dbHandle.db,
    secrets: createSecretBox(config.masterKey),
    ssh,
    storeServices: { ssh, signedDownloadUrl: links.url },
    partSizeBytes: config.transferPartBytes,
    transferConcurrency: config.transferConcurrency,
    jobStatus: temporalJobStatus(client.workflow),
    serviceEndpoints: config.serviceEndpoints,
  });
  await ensureEvictionSchedule(config, dbHandle.db);
  await ensureDoctorSchedule(client, config, dbHandle.db);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath,
    activities,
    // Cancellation reaches an activity on its heartbeat's answer: heartbeats go out at least every 2 s, so a
    // cancelled transfer stops within seconds instead of the default 80% of its heartbeat timeout.
    defaultHeartbeatThrottleInterval: '2 seconds',
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  // Ready while the database and Temporal answer and the worker is polling its task queue (not starting or
  // draining): what a process supervisor or a load balancer's health check of a worker machine asks.
  const readiness = createReadiness({
    database: async () => void (await dbHandle.db.execute(sql`select 1`)),
    temporal: async () => void (await clientConnection.healthService.check({})),
    poller: () =>
      worker.getState() === 'RUNNING'
        ? Promise.resolve()
        : Promise.reject(new Error(`the worker is ${worker.getState().toLowerCase()}`)),
  });
  let health: Server | undefined;
  if (config.worker.healthPort !== undefined) {
    const server = createHealthServer(readiness);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.worker.healthPort, config.worker.healthHost, resolve);
    });
    health = server;
  }
  return {
    worker,
    healthPort: health ? (health.address() as AddressInfo).port : undefined,
    async run() {
      try {
        await worker.run();
      } finally {
        readiness.drain();
        await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
        await connection.close();
        await clientConnection.close();
        await dbHandle.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}
