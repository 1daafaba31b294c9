// The doctor on the lab: a registerTemplate terminated mid-download (no compensation runs: Temporal just stops it)
// leaves an open multipart upload on S3 and a copy row stuck Creating. `./ferry doctor --json` counts them (as young
// under the default grace period), `--repair --grace 0` aborts the upload and ends the row Failed through the state
// machine, and a second run counts nothing. A Ready template of this run and an object of another catalogue placed in
// the same bucket are left as they are. Then a createSnapshot terminated mid-backup: its export file on the pool, its
// qcow2 internal snapshot in the volume, its upload and its lying rows are counted, repaired, and gone.
// The doctor runs on this run's worker, against this run's database (FERRY_TEST_RUN): stores are shared by runs, so
// it judges only keys whose ids this catalogue owns.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ferryRoot, poolPath } from '../../lab/lab-layout';
import { runOnLabHost } from '../support/lab-hosts';
import type { DoctorReport } from '../../workflows/reconcile-catalogue';
import { ImageSource } from '../support/image-source';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { labS3Client } from '../support/lab-stores';
import { adminApi, stack, unique } from '../support/stack';
import { recordHistory, temporalClient } from '../support/temporal';

const MiB = 1024 * 1024;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let lab: LabInventory;
let sql: postgres.Sql;
const source = new ImageSource();

/** Runs `./ferry doctor`'s script as the launcher does, pointed at this run's worker (its task queue, database). */
async function doctor(...args: string[]): Promise<DoctorReport & { workflowId: string }> {
  const { stdout } = await run(
    join(ferryRoot, 'node_modules/.bin/tsx'),
    [join(ferryRoot, 'workers/doctor.ts'), ...args],
    {
      env: { ...process.env, ...stack().workerEnv },
      timeout: 300_000,
    },
  );
  return JSON.parse(stdout) as DoctorReport & { workflowId: string };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(200);
  }
}

async function ref(templateId: string) {
  const [row] = await sql`
    select state, download_percent, install_path, transfer_state, error_text, job_id from template_store_refs
    where template_id = ${templateId}`;
  return row as
    | {
        state: string;
        download_percent: number;
        install_path: string;
        transfer_state: { uploadId: string } | null;
        error_text: string | null;
        job_id: string | null;
      }
    | undefined;
}

async function openUploads(prefix: string): Promise<string[]> {
  const client = labS3Client();
  try {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: lab.bucket, Prefix: prefix }));
    return (page.Uploads ?? []).map((u) => u.UploadId!);
  } finally {
    client.destroy();
  }
}

async function objectExists(key: string): Promise<boolean> {
  const client = labS3Client();
  try {
    await client.send(new HeadObjectCommand({ Bucket: lab.bucket, Key: key }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  sql = postgres(stack().databaseUrl, { max: 2, onnotice: () => undefined });
  lab = await buildLabInventory(adminApi());
  await source.start();
}, 180_000);

afterAll(async () => {
  await source.close();
  await sql?.end();
  await removeLabInventoryStorage(adminApi(), lab);
}, 120_000);

/**
 * The run's catalogue is shared with every earlier test file, whose leftovers (rows of stores a file removed at its
 * end, say) the doctor rightly reports: each case starts by repairing them, so its counts are its own, and compares
 * what is never repaired (`missing`, `undecided`) with that starting point.
 */
let before: DoctorReport;

describe('doctor', () => {
  beforeEach(async () => {
    await doctor('--json', '--repair', '--grace', '0');
    before = await doctor('--json', '--grace', '0');
  }, 300_000);

  it('finds and repairs what a terminated registerTemplate left (an open upload, a row Creating), and nothing else', async () => {
    const api = adminApi();
    // A Ready template of this run: its copy must survive every repair.
    const smallSha = source.add('small.raw', { size: 6 * MiB, seed: 21 });
    const small = await api.call('registerTemplate', {
      name: unique('doctor-ready'),
      url: source.url('small.raw'),
      format: 'RAW',
      hypervisor: 'KVM',
      zoneid: '-1',
      checksum: `{SHA-256}${smallSha}`,
    });
    expect((await api.waitForJob(String(small.jobid), 120_000)).jobstatus).toBe(1);
    const readyKey = (await ref(String(small.id)))!.install_path;

    // Another catalogue's object in the same bucket (a run sharing the store): not this doctor's to judge.
    const foreignKey = `template/tmpl/admin/${randomUUID()}/foreign.raw`;
    const s3 = labS3Client();
    await s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: foreignKey, Body: Buffer.alloc(1024) }));
    s3.destroy();

    // The download under way, then terminated as `temporal workflow terminate` does.
    const slowSha = source.add('slow.raw', { size: 160 * MiB, rate: 8 * MiB, seed: 22 });
    const body = await api.call('registerTemplate', {
      name: unique('doctor-terminated'),
      url: source.url('slow.raw'),
      format: 'RAW',
      hypervisor: 'KVM',
      zoneid: '-1',
      checksum: `{SHA-256}${slowSha}`,
    });
    const templateId = String(body.id);
    const underway = await until('the download to be under way', async () => {
      const row = await ref(templateId);
      return row?.transfer_state && row.download_percent >= 10 ? row : undefined;
    });
    const handle = (await temporalClient()).workflow.getHandle(String(body.jobid));
    await handle.terminate('doctor e2e: terminated mid-download');
    expect((await handle.describe()).status.name).toBe('TERMINATED');
    await sleep(3000); // a part in flight when the worker learns of it may still land
    const key = underway.install_path;
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    expect(await openUploads(prefix)).toEqual([underway.transfer_state!.uploadId]);
    expect((await ref(templateId))!.state).toBe('Creating');

    // Counted: under the default grace period (an hour) the young upload is only counted as young.
    const first = await doctor('--json');
    expect(first).toMatchObject({ orphans: {}, lying: 1, repaired: {}, young: 1, missing: before.missing });
    expect(first.foreign).toBeGreaterThanOrEqual(1); // the foreign object, and other runs' pool files
    const counted = await doctor('--json', '--grace', '0');
    expect(counted).toMatchObject({ orphans: { multipartUpload: 1 }, lying: 1, repaired: {}, young: 0 });
    await recordHistory(counted.workflowId, 'reconcileCatalogue-report-only');
    expect((await ref(templateId))!.state).toBe('Creating'); // counting repairs nothing
    expect(await openUploads(prefix)).toHaveLength(1);

    // Repaired: the upload aborted, the row ended Failed saying why; nothing else touched.
    const repaired = await doctor('--json', '--repair', '--grace', '0');
    expect(repaired).toMatchObject({
      orphans: { multipartUpload: 1 },
      lying: 1,
      repaired: { multipartUpload: 1, lying: 1 },
      skipped: [],
    });
    await recordHistory(repaired.workflowId, 'reconcileCatalogue-success');
    const after = (await ref(templateId))!;
    expect(after.state).toBe('Failed');
    expect(after.error_text).toMatch(/doctor.*Creating.*ended/);
    expect(after.transfer_state).toBeNull();
    expect(await openUploads(prefix)).toEqual([]);
    expect(await objectExists(readyKey)).toBe(true);
    expect((await ref(String(small.id)))!.state).toBe('Ready');
    expect(await objectExists(foreignKey)).toBe(true);
    const [listed] = (await api.call('listTemplates', { templatefilter: 'all', id: templateId })).template as {
      isready: boolean;
    }[];
    expect(listed).toMatchObject({ isready: false });

    // A second run finds nothing.
    const again = await doctor('--json', '--grace', '0');
    expect(again).toMatchObject({ orphans: {}, lying: 0, missing: before.missing, undecided: before.undecided });
    expect(again.foreign).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('finds and repairs what a createSnapshot terminated mid-backup left: the export file, the snapshot in the disk, the upload, the lying rows', async () => {
    const api = adminApi();
    const made = await api.call('createVolume', {
      name: unique('doctor-snap'),
      size: '1',
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
    });
    expect((await api.waitForJob(String(made.jobid), 120_000)).jobstatus).toBe(1);
    const volumeId = String(made.id);
    const [vol] = await sql`select path from volumes where id = ${volumeId}`;
    const disk = join(poolPath('primary-kvm-a'), String(vol!.path));
    const written = await runOnLabHost('kvm-a1', ['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 160M', disk]);
    expect(written.exitCode, written.stderr).toBe(0);

    const started = await api.call('createSnapshot', { volumeid: volumeId });
    const snapshotId = String(started.id);
    await until('the backup to be under way', async () => {
      const [row] = await sql`select download_percent from snapshot_store_refs where snapshot_id = ${snapshotId}`;
      return Number(row?.download_percent ?? 0) >= 10 ? true : undefined;
    });
    const handle = (await temporalClient()).workflow.getHandle(String(started.jobid));
    await handle.terminate('doctor e2e: terminated mid-backup');
    await sleep(3000);
    const exportFile = join(poolPath('primary-kvm-a'), `.snapshot-${snapshotId}.qcow2`);
    const internal = async () => {
      const info = await runOnLabHost('kvm-a1', ['qemu-img', 'info', '-U', '--output=json', disk]);
      const parsed = JSON.parse(info.stdout) as { snapshots?: { name: string }[] };
      return (parsed.snapshots ?? []).map((s) => s.name);
    };
    expect(existsSync(exportFile)).toBe(true);
    expect(await internal()).toContain(`ferry-${snapshotId}`);

    const counted = await doctor('--json', '--grace', '0');
    // Counted among whatever else the run's shared catalogue holds at that moment (earlier test files' clean-ups may
    // still be running, so those counts move); the files, the disk's snapshot and the row below are this case's own.
    for (const kind of ['poolFile', 'hostSnapshot', 'multipartUpload'] as const) {
      expect(counted.orphans[kind] ?? 0, kind).toBeGreaterThanOrEqual(1);
    }
    expect(counted.details.lying.join('\n')).toContain(`snapshot ${snapshotId}`);
    expect(existsSync(exportFile)).toBe(true); // counting repairs nothing

    const repaired = await doctor('--json', '--repair', '--grace', '0');
    expect(repaired.repaired.lying ?? 0).toBeGreaterThanOrEqual(1);
    for (const kind of ['poolFile', 'hostSnapshot', 'multipartUpload'] as const) {
      expect(repaired.repaired[kind], kind).toBeGreaterThanOrEqual(1);
    }
    expect(repaired.skipped.filter((s) => s.what.includes(snapshotId))).toEqual([]);
    expect(existsSync(exportFile)).toBe(false);
    expect(await internal()).not.toContain(`ferry-${snapshotId}`);
    const [snap] = await sql`select state from snapshots where id = ${snapshotId}`;
    expect(snap!.state).toBe('Error');
    expect(existsSync(disk)).toBe(true); // the volume keeps its disk
    const [v] = await sql`select state from volumes where id = ${volumeId}`;
    expect(v!.state).toBe('Ready');

    // This case's orphans and rows are gone from the next report: its lying snapshot is no longer listed.
    const again = await doctor('--json', '--grace', '0');
    expect(again.details.lying.join('\n')).not.toContain(snapshotId);
  }, 300_000);

  it('refuses a bad --grace, naming it', async () => {
    const failed = await run(
      join(ferryRoot, 'node_modules/.bin/tsx'),
      [join(ferryRoot, 'workers/doctor.ts'), '--grace', 'soon'],
      {
        env: { ...process.env, ...stack().workerEnv },
      },
    ).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/--grace must be a whole number of seconds.*431/);
  });
});
