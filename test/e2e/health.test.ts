// Health and readiness as an operator's load balancer or supervisor sees them: the API's /healthz and /readyz on its
// own port, and a worker process's on the port FERRY_WORKER_HEALTH_PORT names — not ready until it polls its task
// queue, ready while it does, gone after SIGTERM. The worker here is a process of its own on a task queue of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ferryRoot } from '../../lab/lab-layout';
import { doctorScheduleId, evictionScheduleId } from '../../workers/ferry-worker';
import { stack } from '../support/stack';
import { temporalClient } from '../support/temporal';
import { freePort } from './global-setup';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined; // nothing listening (yet, or any more)
  }
}

describe("the API's probes", () => {
  it('answers /healthz alive and /readyz ready, with the database and Temporal checked', async () => {
    const base = stack().apiUrl.replace(/\/client\/api$/, '');
    expect(await probe(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'alive' } });
    expect(await probe(`${base}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', ready: true, checks: { database: 'ok', temporal: 'ok' } },
    });
  });
});

describe("a worker's probes", () => {
  const taskQueue = `ferry-health-${randomUUID().slice(0, 8)}`;
  let worker: ChildProcess | undefined;

  afterAll(async () => {
    worker?.kill('SIGKILL');
    const client = await temporalClient();
    for (const id of [evictionScheduleId(taskQueue), doctorScheduleId(taskQueue)]) {
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    }
  });

  it('says ready only while it polls its task queue, and stops answering after SIGTERM', async () => {
    const port = await freePort();
    const env = { ...process.env, ...stack().workerEnv, FERRY_TASK_QUEUE: taskQueue };
    worker = spawn('node', ['--import', 'tsx', join(ferryRoot, 'workers/worker.ts')], {
      cwd: ferryRoot,
      env: { ...env, FERRY_WORKER_HEALTH_PORT: String(port) },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;

    // The probe port opens before the worker polls: it may say not ready first, never ready before the poller.
    const seen: number[] = [];
    let ready: Awaited<ReturnType<typeof probe>>;
    for (let i = 0; i < 240 && ready?.status !== 200; i++) {
      ready = await probe(`${url}/readyz`);
      if (ready) seen.push(ready.status);
      await sleep(250);
    }
    expect(ready).toEqual({
      status: 200,
      body: { status: 'ready', ready: true, checks: { database: 'ok', temporal: 'ok', poller: 'ok' } },
    });
    expect(seen.every((s) => s === 200 || s === 503)).toBe(true);
    expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'alive' } });

    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await probe(`${url}/readyz`)).toBeUndefined();
  }, 120_000);
});
