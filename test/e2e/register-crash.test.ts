// A worker killed in the middle of a large registration: the job still completes, the retry resumes from the last
// part the store confirmed, and no multipart upload is left open.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternStream } from '../../plugins/image-stores/contract-suite';
import { killWorkerRunning } from '../support/test-workers';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { listenAsSource } from '../support/lab-sites';
import { labS3 } from '../support/lab-stores';
import { adminApi, stack, unique } from '../support/stack';
import { recordHistory, temporalClient } from '../support/temporal';

const MiB = 1024 * 1024;
const SIZE = 60 * MiB; // 12 parts of 5 MiB
const RATE = 12 * MiB; // bytes per second the source serves: slow enough to kill the worker mid-way

let lab: LabInventory;
let source: Server;
let url: string;
let sha256: string;

/** Serves a deterministic raw disk image at a bounded rate (a slow mirror). */
function slowSource(): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
    const stream = patternStream(SIZE, 42);
    let sentThisTick = 0;
    const tick = setInterval(() => (sentThisTick = 0), 100);
    stream.on('data', (chunk: Buffer) => {
      res.write(chunk);
      sentThisTick += chunk.length;
      if (sentThisTick >= RATE / 10) {
        stream.pause();
        setTimeout(() => stream.resume(), 100);
      }
    });
    stream.on('end', () => {
      clearInterval(tick);
      res.end();
    });
    res.on('close', () => {
      clearInterval(tick);
      stream.destroy();
    });
  });
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  source = slowSource();
  url = `${await listenAsSource(source)}/large.raw`;
  const hash = createHash('sha256');
  for await (const chunk of patternStream(SIZE, 42)) hash.update(chunk as Buffer);
  sha256 = hash.digest('hex');
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => source.close(() => resolve()));
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('a worker crash during registerTemplate', () => {
  it('completes the job, resumes from the confirmed parts, and leaves no upload open', async () => {
    const api = adminApi();
    const body = await api.call('registerTemplate', {
      name: unique('large'),
      url,
      format: 'RAW',
      hypervisor: 'KVM',
      zoneid: '-1',
      checksum: `{SHA-256}${sha256}`,
    });
    const jobid = String(body.jobid);
    const templateId = String(body.id);

    // Wait until the store has confirmed at least two parts, then kill the worker without warning.
    const sql = postgres(stack().databaseUrl, { max: 1 });
    let percent = 0;
    for (let i = 0; i < 200 && percent < 25; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const [row] = await sql`select download_percent from template_store_refs where template_id = ${templateId}`;
      percent = Number(row?.download_percent ?? 0);
    }
    await sql.end();
    expect(percent).toBeGreaterThanOrEqual(25);
    await killWorkerRunning(jobid, 'downloadToStore'); // its supervisor restarts it

    const done = await api.waitForJob(jobid, 180_000);
    expect(done, JSON.stringify(done.jobresult)).toMatchObject({ jobstatus: 1 });
    const result = (await (await temporalClient()).workflow.getHandle(jobid).result()) as {
      transfers: { size: number; sha256: string; resumedParts: number; partsSent: number }[];
    };
    const [transfer] = result.transfers;
    const parts = SIZE / (5 * MiB);
    expect(transfer).toMatchObject({ size: SIZE, sha256 });
    // The retry found the parts confirmed before the crash and sent only the rest: at most one part was in flight
    // (parts are written one at a time, each confirmed in a heartbeat), so at most one was sent twice.
    expect(transfer!.resumedParts).toBeGreaterThanOrEqual(Math.floor((parts * percent) / 100) - 1);
    expect(transfer!.resumedParts + transfer!.partsSent).toBe(parts);

    const s = labS3();
    const client = new S3Client({
      endpoint: s.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s.accesskey, secretAccessKey: s.secretkey },
    });
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: lab.bucket }));
    client.destroy();
    expect(uploads.Uploads ?? []).toHaveLength(0);
    await recordHistory(jobid, 'registerTemplate-worker-crash');
    expect(
      (await adminApi().waitForJob(String((await api.call('deleteTemplate', { id: templateId })).jobid))).jobstatus,
    ).toBe(1);
  });
});
