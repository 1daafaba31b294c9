// Starts Ferry (API + worker, in this process) against the running lab with a fresh database, once per test run.
// The lab itself (Temporal, PostgreSQL, hosts) is started by `./ferry test`.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { startFerryApi, type FerryApi } from '../../api/ferry-api';
import { applyMigrations } from '../../db/migrate';
import { ferryHome } from '../../lab/lab-layout';
import { loadConfig } from '../../temporal.config';
import { createFerryWorker, type FerryWorker } from '../../workers/ferry-worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';

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
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

let api: FerryApi | undefined;
let worker: FerryWorker | undefined;
let running: Promise<void> | undefined;

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function setup(project: TestProject) {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the tests with ./ferry test');
  const databaseUrl = await freshDatabase(base, 'ferry_test');
  await applyMigrations(databaseUrl);
  const taskQueue = `ferry-test-${process.pid}`;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    FERRY_API_PORT: String(await freePort()),
    FERRY_TASK_QUEUE: taskQueue,
    FERRY_ADMIN_FILE: join(ferryHome, 'test-admin.json'),
    FERRY_ADMIN_API_KEY: undefined,
    FERRY_ADMIN_SECRET_KEY: undefined,
    FERRY_HOST_CONNECT_ATTEMPTS: '2',
  });
  const logFile = join(ferryHome, 'log', 'test-ferry.log');
  writeFileSync(logFile, '');
  const log = (line: string) => appendFileSync(logFile, line + '\n');
  // Everything the worker logs goes to the file too; failing workflows are the point of many tests.
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) =>
      log(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`),
    ),
  });
  worker = await createFerryWorker(config);
  running = worker.run();
  api = await startFerryApi(config, log);
  const keys = JSON.parse(await readFile(config.admin.file, 'utf8')) as { apiKey: string; secretKey: string };
  project.provide('stack', {
    apiUrl: `${config.api.publicUrl}/client/api`,
    ...keys,
    databaseUrl,
    temporalAddress: config.temporal.address,
    temporalUiUrl: `http://127.0.0.1:${process.env.FERRY_TEMPORAL_UI_PORT ?? 8233}`,
    taskQueue,
    connectAttempts: config.ssh.connectAttempts,
    logFile,
  });
}

export async function teardown() {
  await api?.close();
  worker?.shutdown();
  await running;
}
