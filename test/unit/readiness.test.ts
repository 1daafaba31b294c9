import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createReadiness } from '../../core/readiness';
import { createHealthServer } from '../../net/health-endpoints';

describe('readiness', () => {
  it('is ready when every probe answers, and names each probe that failed or did not answer in time', async () => {
    let databaseUp = true;
    const readiness = createReadiness(
      {
        database: () => (databaseUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED'))),
        temporal: () => Promise.resolve(),
      },
      200,
    );
    expect(await readiness.report()).toEqual({ ready: true, checks: { database: 'ok', temporal: 'ok' } });
    databaseUp = false;
    expect(await readiness.report()).toEqual({
      ready: false,
      checks: { database: 'connect ECONNREFUSED', temporal: 'ok' },
    });
    const hanging = createReadiness({ temporal: () => new Promise<void>(() => undefined) }, 50);
    expect(await hanging.report()).toEqual({ ready: false, checks: { temporal: 'no answer within 50 ms' } });
  });

  it('is not ready once draining, whatever the probes say', async () => {
    const readiness = createReadiness({ database: () => Promise.resolve() });
    readiness.drain();
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.checks.database).toBe('ok');
    expect(report.checks.shutdown).toMatch(/draining/);
  });
});

describe('the probes over HTTP', () => {
  it('answers /healthz with 200 always, /readyz with 200 or 503 and the checks, anything else with 404', async () => {
    let up = true;
    const server = createHealthServer(
      createReadiness({ database: () => (up ? Promise.resolve() : Promise.reject(new Error('down'))) }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const get = async (path: string) => {
        const res = await fetch(`${base}${path}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'alive' } });
      expect(await get('/readyz')).toMatchObject({ status: 200, body: { ready: true, checks: { database: 'ok' } } });
      up = false;
      expect(await get('/readyz?verbose=1')).toMatchObject({
        status: 503,
        body: { status: 'not ready', ready: false, checks: { database: 'down' } },
      });
      expect(await get('/healthz')).toMatchObject({ status: 200 }); // alive: a restart would not fix the database
      expect((await get('/metrics')).status).toBe(404);
      expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
