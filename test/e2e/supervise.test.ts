// Supervised workers, and more than one: a SIGKILLed worker is restarted by its supervisor (no command) and its
// transfer resumes; two workers on one task queue share the jobs while a host's session limit holds across both.
// Only this run's workers are touched (test/support/test-workers.ts checks each pid's task queue before a kill).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageSource } from '../support/image-source';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { labS3Client } from '../support/lab-stores';
import { adminApi, labHost, stack, unique } from '../support/stack';
import { temporalClient } from '../support/temporal';
import { activityPollerPids, killWorkerRunning, readPid, waitForWorker } from '../support/test-workers';
import { processPidFileOf, startTestWorker } from './global-setup';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let lab: LabInventory;
const source = new ImageSource();

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  await source.start();
}, 120_000);

afterAll(async () => {
  await source.close();
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('a SIGKILLed worker', () => {
  it('is back within 30 s without a command, and its registerTemplate resumes and completes', async () => {
    const api = adminApi();
    const partBytes = Number(stack().workerEnv.FERRY_TRANSFER_PART_MIB) * MiB;
    const size = 60 * MiB;
    // 12 MiB/s: the download is still under way when the worker is killed a quarter of the way in.
    const sha256 = source.add('supervised.raw', { size, rate: 12 * MiB, seed: 12 });
    const body = await api.call('registerTemplate', {
      name: unique('supervised'),
      url: source.url('supervised.raw'),
      format: 'RAW',
      hypervisor: 'KVM',
      zoneid: '-1',
      checksum: `{SHA-256}${sha256}`,
    });
    const jobid = String(body.jobid);
    const templateId = String(body.id);

    const sql = postgres(stack().databaseUrl, { max: 1 });
    let percent = 0;
    for (let i = 0; i < 300 && percent < 25; i++) {
      await sleep(100);
      const [row] = await sql`select download_percent from template_store_refs where template_id = ${templateId}`;
      percent = Number(row?.download_percent ?? 0);
    }
    await sql.end();
    expect(percent).toBeGreaterThanOrEqual(25);

    const killed = await killWorkerRunning(jobid, 'downloadToStore');
    const killedAt = Date.now();
    // Nothing is started here: the run's supervisor must bring a new worker up, polling the task queue again.
    const back = await waitForWorker(killed.processPidFile, 30_000, killed.pid);
    expect(back.at - killedAt).toBeLessThan(30_000);

    const done = await api.waitForJob(jobid, 180_000);
    expect(done, JSON.stringify(done.jobresult)).toMatchObject({ jobstatus: 1 });
    const result = (await (await temporalClient()).workflow.getHandle(jobid).result()) as {
      transfers: { size: number; sha256: string; resumedParts: number; partsSent: number }[];
    };
    const [transfer] = result.transfers;
    const parts = size / partBytes;
    expect(transfer).toMatchObject({ size, sha256 });
    // Parts are sent one at a time and each is confirmed in a heartbeat: the retry re-sent at most the one in flight.
    expect(transfer!.resumedParts).toBeGreaterThanOrEqual(Math.floor((parts * percent) / 100) - 1);
    expect(transfer!.resumedParts + transfer!.partsSent).toBe(parts);

    const s3 = labS3Client();
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: lab.bucket }));
    s3.destroy();
    expect(uploads.Uploads ?? []).toHaveLength(0);
    const deleted = await api.call('deleteTemplate', { id: templateId });
    expect((await api.waitForJob(String(deleted.jobid))).jobstatus).toBe(1);
  }, 300_000);
});

/** SSH connections to `address:port` held by each of `pids`, as the kernel sees them (not Ferry's own count). */
async function sshConnections(address: string, port: number, pids: number[]): Promise<Map<number, number>> {
  const { stdout } = await promisify(execFile)('ss', ['-Htnp', 'state', 'established', `( dst ${address}:${port} )`]);
  const counts = new Map(pids.map((p) => [p, 0]));
  for (const m of stdout.matchAll(/pid=(\d+),/g)) {
    const pid = Number(m[1]);
    if (counts.has(pid)) counts.set(pid, counts.get(pid)! + 1);
  }
  return counts;
}

describe('two workers on one task queue', () => {
  const secondPidFile = () => stack().workerPidFile.replace(/\.pid$/, '-second.pid');

  afterAll(() => {
    const pid = readPid(secondPidFile());
    if (pid !== undefined) process.kill(-pid, 'SIGTERM');
  });

  it('share the jobs, and a host never has more sessions than its limit across both', async () => {
    startTestWorker(stack().workerEnv, stack().logFile, secondPidFile());
    const first = await waitForWorker(stack().workerProcessPidFile, 30_000);
    const second = await waitForWorker(processPidFileOf(secondPidFile()), 90_000);
    expect(await activityPollerPids()).toEqual(expect.arrayContaining([first.pid, second.pid]));

    const limit = Number(stack().workerEnv.FERRY_SSH_MAX_SESSIONS_PER_HOST ?? 4);
    const host = labHost('kvm-a1'); // the only host of the inventory's KVM cluster in zone A
    const api = adminApi();
    const peaks = { total: 0, [first.pid]: 0, [second.pid]: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await sshConnections(host.address, host.port, [first.pid, second.pid]);
        let total = 0;
        for (const [pid, n] of counts) {
          peaks[pid] = Math.max(peaks[pid] ?? 0, n);
          total += n;
        }
        peaks.total = Math.max(peaks.total, total);
        await sleep(20);
      }
    })();

    // Four times as many jobs on that one host as it has sessions: with per-process slots two workers would open
    // up to twice the limit at once.
    const made = await Promise.all(
      Array.from({ length: limit * 4 }, () =>
        api.call('createVolume', {
          name: unique('shared'),
          size: '1',
          zoneid: lab.zoneA.id,
          storageid: lab.pools.kvmA.id,
        }),
      ),
    );
    const results = await Promise.all(made.map((m) => api.waitForJob(String(m.jobid), 180_000)));
    sampling = false;
    await sampler;

    for (const r of results) expect(r, JSON.stringify(r.jobresult)).toMatchObject({ jobstatus: 1 });
    expect(peaks.total).toBeGreaterThan(0);
    expect(peaks.total).toBeLessThanOrEqual(limit);
    // Both workers did some of the work.
    expect(peaks[first.pid]).toBeGreaterThan(0);
    expect(peaks[second.pid]).toBeGreaterThan(0);

    // Every session gave its slot back.
    const sql = postgres(stack().databaseUrl, { max: 1 });
    const [live] = await sql`select count(*)::int as n from host_session_slots where expires_at > now()`;
    await sql.end();
    expect(live!.n).toBe(0);

    const deleted = await Promise.all(made.map((m) => api.call('deleteVolume', { id: String(m.id) })));
    for (const d of deleted) expect((await api.waitForJob(String(d.jobid))).jobstatus).toBe(1);
  }, 300_000);
});
