// Starts Ferry against the running lab with a fresh database, once per test run: the API in this process, the worker
// as a child process under the lab's supervisor (lab/supervise.sh), as `./ferry up` runs it: a test can kill the
// worker mid-transfer and see it come back by itself, or kill the supervisor's group too and start another.
// The lab itself (Temporal, PostgreSQL, S3, Swift, hosts) is started by `./ferry test`.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { startFerryApi, type FerryApi } from '../../api/ferry-api';
import { applyMigrations } from '../../db/migrate';
import { FerryApiClient } from '../../api/client';
import { ferryHome, ferryRoot, labServiceEndpoints } from '../../lab/lab-layout';
import { loadConfig } from '../../temporal.config';
import { doctorScheduleId, evictionScheduleId } from '../../workers/ferry-worker';
import { applyTestSites } from '../support/lab-sites';

export interface TestStack {
  apiUrl: string;
  apiKey: string;
  secretKey: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string;
  taskQueue: string;
  connectAttempts: number;
  /** Every line Ferry's API and worker logged during the run (tests search it for secrets). */
  logFile: string;
  /** How to start a worker like the running one, and where its supervisor's pid (its process group) is kept. */
  workerEnv: Record<string, string>;
  workerPidFile: string;
  /** Where the worker process's own pid is kept (what a crash test SIGKILLs; the supervisor restarts it). */
  workerProcessPidFile: string;
  /** The same for every worker of the run (FERRY_TEST_WORKERS), the first one first. */
  workerProcessPidFiles: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

let api: FerryApi | undefined;
// FERRY_TEST_RUN names this run's database, worker pid and log, so two checkouts sharing one lab can test at once.
const run = process.env.FERRY_TEST_RUN ?? 'test';
const workerPidFile = join(ferryHome, 'run', `${run}-worker.pid`);
// FERRY_TEST_WORKERS=N runs the suite against N workers sharing the run's task queue and database (default 1).
const workerCount = Number(process.env.FERRY_TEST_WORKERS ?? 1);
const extraWorkerPidFiles = Array.from({ length: Math.max(0, workerCount - 1) }, (_, i) =>
  join(ferryHome, 'run', `${run}-worker-${i + 2}.pid`),
);

async function freshDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Where the supervisor whose pid is in `pidFile` keeps its process's pid (lab/services.sh: run/proc/<name>.pid). */
export const processPidFileOf = (pidFile: string) => join(dirname(pidFile), 'proc', basename(pidFile));

/**
 * Starts a supervised worker (lab/supervise.sh over `node --import tsx workers/worker.ts`) in the background with
 * `env`, logging to `logFile`; records the supervisor's pid (the leader of both processes' group) in `pidFile`.
 */
export function startTestWorker(env: Record<string, string>, logFile: string, pidFile: string): number {
  const out = openSync(logFile, 'a');
  const processPidFile = processPidFileOf(pidFile);
  mkdirSync(dirname(processPidFile), { recursive: true });
  rmSync(processPidFile, { force: true });
  const supervisor = join(ferryRoot, 'lab/supervise.sh');
  const child = spawn(supervisor, [processPidFile, 'node', '--import', 'tsx', join(ferryRoot, 'workers/worker.ts')], {
    cwd: ferryRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
    detached: true,
  });
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  return child.pid!;
}

export async function setup(project: TestProject) {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the tests with ./ferry test');
  const databaseUrl = await freshDatabase(base, `ferry_${run.replace(/\W/g, '_')}`);
  await applyMigrations(databaseUrl);
  const taskQueue = `ferry-test-${process.pid}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    FERRY_API_PORT: String(await freePort()),
    FERRY_TASK_QUEUE: taskQueue,
    FERRY_ADMIN_FILE: join(ferryHome, `${run}-admin.json`),
    FERRY_HOST_CONNECT_ATTEMPTS: '2',
    // Small parts and a short heartbeat deadline, so the crash test sees several parts and resumes quickly.
    FERRY_TRANSFER_PART_MIB: '5',
    FERRY_TRANSFER_HEARTBEAT_S: '5',
    // The lab's services no download may reach (./ferry exports them; a run started by hand gets the same list).
    FERRY_SERVICE_ENDPOINTS: process.env.FERRY_SERVICE_ENDPOINTS ?? labServiceEndpoints(),
  };
  Object.assign(process.env, env);
  delete process.env.FERRY_ADMIN_API_KEY;
  delete process.env.FERRY_ADMIN_SECRET_KEY;
  const config = loadConfig(process.env);

  const logFile = join(ferryHome, 'log', `${run}-ferry.log`);
  writeFileSync(logFile, '');
  if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error('FERRY_TEST_WORKERS must be at least 1');
  for (const pidFile of [workerPidFile, ...extraWorkerPidFiles]) startTestWorker(env, logFile, pidFile);
  api = await startFerryApi(config, (line) => appendFileSync(logFile, line + '\n'));
  const keys = JSON.parse(readFileSync(config.admin.file, 'utf8')) as { apiKey: string; secretKey: string };
  // As `./ferry up` seeds the lab's URL-policy settings, so each run's fresh database gets the tests' (lab-sites.ts).
  await applyTestSites(new FerryApiClient(`${config.api.publicUrl}/client/api`, keys));
  project.provide('stack', {
    apiUrl: `${config.api.publicUrl}/client/api`,
    ...keys,
    databaseUrl,
    temporalAddress: config.temporal.address,
    temporalUiUrl: `http://127.0.0.1:${process.env.FERRY_TEMPORAL_UI_PORT ?? 8233}`,
    taskQueue,
    connectAttempts: config.ssh.connectAttempts,
    logFile,
    workerEnv: env,
    workerPidFile,
    workerProcessPidFile: processPidFileOf(workerPidFile),
    workerProcessPidFiles: [workerPidFile, ...extraWorkerPidFiles].map(processPidFileOf),
  });
}

export async function teardown() {
  await api?.close();
  for (const pidFile of [workerPidFile, ...extraWorkerPidFiles]) {
    try {
      process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  // Each test worker made its run's eviction and doctor schedules; the run's task queue is gone with it.
  const taskQueue = process.env.FERRY_TASK_QUEUE;
  if (taskQueue) {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    const client = new Client({ connection });
    for (const id of [evictionScheduleId(taskQueue), doctorScheduleId(taskQueue)]) {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined); // never made, or already deleted
    }
    await connection.close();
  }
}
