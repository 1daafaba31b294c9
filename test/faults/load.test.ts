// Load on the lab (`./ferry faults load`): 200 concurrent API calls (reads and refused writes, signed like any
// client's) while 50 small transfers (registerTemplate of 4 MiB images from a loopback source) run at once. Every
// answer is below 500, every job ends completed, and the figures (p50/p99 API latency, jobs per second) go to
// $FERRY_HOME/faults/load.json for the README.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryApiClient } from '../../api/client';
import { ferryHome } from '../../lab/lab-layout';
import { ImageSource } from '../support/image-source';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, stack, unique } from '../support/stack';

const CALLS = 200;
const TRANSFERS = 50;
const MiB = 1024 * 1024;

let lab: LabInventory;
const source = new ImageSource();

beforeAll(async () => {
  await source.start();
  lab = await buildLabInventory(adminApi());
}, 300_000);

afterAll(async () => {
  await removeLabInventoryStorage(adminApi(), lab);
  await source.close();
});

/** One signed request, timed, with its HTTP status (a transport failure counts as 599). */
async function timedCall(command: string, params: Record<string, string>): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const client = new FerryApiClient(stack().apiUrl, stack());
  const status = await client.request(command, params).then(
    (r) => r.status,
    () => 599,
  );
  return { ms: performance.now() - t0, status };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

describe('load: 200 concurrent API calls with 50 transfers running', () => {
  it('answers every call below 500 and completes every job', async () => {
    const images = Array.from({ length: TRANSFERS }, (_, i) => {
      const name = `load-${i}.raw`;
      return { name, sha256: source.add(name, { size: 4 * MiB, seed: 5000 + i }) };
    });
    const t0 = Date.now();
    const started = await Promise.all(
      images.map(async (image) => {
        const body = await adminApi().call('registerTemplate', {
          name: unique('load'),
          url: source.url(image.name),
          format: 'RAW',
          hypervisor: 'KVM',
          zoneid: '-1',
          checksum: `{SHA-256}${image.sha256}`,
        });
        return String(body.jobid);
      }),
    );
    // The API under load while the jobs run: lists, a job poll, and writes refused for bad input (no side effects).
    const mix: [string, Record<string, string>][] = [
      ['listTemplates', { templatefilter: 'all' }],
      ['listZones', {}],
      ['listImageStores', {}],
      ['listVolumes', {}],
      ['queryAsyncJobResult', { jobid: started[0]! }],
      ['createVolume', { name: unique('refused'), zoneid: lab.zoneA.id, size: '0' }],
    ];
    const calls = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => timedCall(mix[i % mix.length]![0], mix[i % mix.length]![1])),
    );
    const ends = await Promise.all(started.map((jobid) => adminApi().waitForJob(jobid, 600_000)));
    const seconds = (Date.now() - t0) / 1000;
    const latencies = calls.map((c) => c.ms).sort((a, b) => a - b);
    const figures = {
      calls: CALLS,
      transfers: TRANSFERS,
      answers5xx: calls.filter((c) => c.status >= 500).length,
      jobsCompleted: ends.filter((e) => e.jobstatus === 1).length,
      jobsLost: TRANSFERS - ends.length,
      p50Ms: Math.round(percentile(latencies, 0.5)),
      p99Ms: Math.round(percentile(latencies, 0.99)),
      jobsPerSecond: Number((TRANSFERS / seconds).toFixed(2)),
      seconds: Number(seconds.toFixed(1)),
    };
    mkdirSync(join(ferryHome, 'faults'), { recursive: true });
    writeFileSync(join(ferryHome, 'faults', 'load.json'), JSON.stringify(figures, null, 2));
    console.log('[load]', JSON.stringify(figures));
    expect(figures.answers5xx).toBe(0);
    expect(figures.jobsCompleted).toBe(TRANSFERS);
  }, 900_000);
});
