// Starts Ferry (API + worker, in this process) against the running lab with a fresh database, once per test run.
// The lab itself (Temporal, PostgreSQL, hosts) is started by `./ferry test`.
import type { AddressInfo } from 'node:net';
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
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

let api: FerryApi | undefined;
let worker: FerryWorker | undefined;
let running: Promise<void> | undefined;
export const apiLog: string[] = [];

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

export async function setup(project: TestProject) {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the tests with ./ferry test');
  const databaseUrl = await freshDatabase(base, 'ferry_test');
  await applyMigrations(databaseUrl);
  const taskQueue = `ferry-test-${process.pid}`;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    FERRY_API_PORT: '0',
    FERRY_TASK_QUEUE: taskQueue,
    FERRY_ADMIN_FILE: join(ferryHome, 'test-admin.json'),
    FERRY_ADMIN_API_KEY: undefined,
    FERRY_ADMIN_SECRET_KEY: undefined,
    FERRY_HOST_CONNECT_ATTEMPTS: '2',
  });
  // Failing workflows are the point of many tests: keep the worker's log to real errors.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  worker = await createFerryWorker(config);
  running = worker.run();
  api = await startFerryApi({ ...config, api: { ...config.api, port: 0 } }, (line) => apiLog.push(line));
  const { port } = api.server.address() as AddressInfo;
  const keys = JSON.parse(await readFile(config.admin.file, 'utf8')) as { apiKey: string; secretKey: string };
  project.provide('stack', {
    apiUrl: `http://127.0.0.1:${port}/client/api`,
    ...keys,
    databaseUrl,
    temporalAddress: config.temporal.address,
    temporalUiUrl: `http://127.0.0.1:${process.env.FERRY_TEMPORAL_UI_PORT ?? 8233}`,
    taskQueue,
    connectAttempts: config.ssh.connectAttempts,
  });
}

export async function teardown() {
  await api?.close();
  worker?.shutdown();
  await running;
}
