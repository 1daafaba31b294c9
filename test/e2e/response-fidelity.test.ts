// Sizes and checksums as CloudStack shows them, for the lab's 16 MiB qcow2 sample (458752 bytes as a file): a
// template's, volume's and snapshot's `size`/`virtualsize` are guest-visible sizes, `physicalsize` the bytes stored;
// a template's `checksum` is the digest given, without its {ALGORITHM} prefix.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryHome, poolPath, sampleImages } from '../../lab/lab-layout';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, stack, unique } from '../support/stack';

type Row = { id: string } & Record<string, unknown>;

const VIRTUAL = 16 * 1024 * 1024;
let lab: LabInventory;
let templateId: string;
let volumeId: string;
const qcow2 = () => sampleImages().find((i) => i.format === 'QCOW2')!;
const fileBytes = () => statSync(join(ferryHome, 'images', qcow2().name)).size;
const api = () => adminApi();

async function done(started: Record<string, unknown>) {
  const result = await api().waitForJob(String(started.jobid), 240_000);
  expect(result.jobstatus, JSON.stringify(result.jobresult)).toBe(1);
  return result;
}

const template = async () =>
  ((await api().call('listTemplates', { templatefilter: 'all', id: templateId })).template as Row[])[0]!;

async function query<T extends object>(run: (sql: postgres.Sql) => Promise<T[]>): Promise<T[]> {
  const sql = postgres(stack().databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

const sizesOnRow = async () =>
  (
    await query(
      (sql) => sql<{ virtual_size: string | null; size: string | null }[]>`
        select virtual_size, size from templates where id = ${templateId}`,
    )
  )[0];

/** Runs `check` with the template's recorded virtual size set to `value`, then puts back what was recorded. */
async function withVirtualSize(value: number | null, check: () => Promise<void>) {
  const recorded = (await sizesOnRow())!.virtual_size;
  await query((sql) => sql`update templates set virtual_size = ${value} where id = ${templateId}`);
  try {
    await check();
  } finally {
    await query((sql) => sql`update templates set virtual_size = ${recorded} where id = ${templateId}`);
  }
}

/** The bytes a disk on a pool takes (what qemu-img info calls actual-size: allocated blocks). */
const allocated = (pool: string, path: unknown) => statSync(join(poolPath(pool), String(path))).blocks * 512;

beforeAll(async () => {
  lab = await buildLabInventory(api());
  const started = await api().call('registerTemplate', {
    name: unique('fidelity'),
    format: 'QCOW2',
    hypervisor: 'KVM',
    zoneid: '-1',
    url: qcow2().url,
    checksum: `{SHA-256}${qcow2().sha256}`,
  });
  templateId = String(started.id);
  await done(started);
}, 300_000);

afterAll(async () => {
  await removeLabInventoryStorage(api(), lab);
});

describe('listTemplates', () => {
  it('shows size as the virtual size (16777216) and physicalsize as the bytes stored, from registration on', async () => {
    const t = await template();
    expect(fileBytes()).toBe(458752);
    expect(t).toMatchObject({ size: VIRTUAL, physicalsize: fileBytes() });
    // The header's reading was recorded at the download's commit, before any copy on a pool measured it.
    expect(await sizesOnRow()).toEqual({ virtual_size: String(VIRTUAL), size: String(fileBytes()) });
  });

  it('shows checksum as CloudStack does: the digest given, without its {ALGORITHM} prefix', async () => {
    const t = await template();
    expect(t.checksum).toBe(qcow2().sha256);
    expect(t.sha256).toBe(qcow2().sha256);
  });

  it('for a template registered before the virtual size was recorded, shows what a copy on a pool measured', async () => {
    await withVirtualSize(null, async () => {
      expect((await template()).size).toBeUndefined();
      await done(await api().call('prepareTemplate', { templateid: templateId, zoneid: lab.zoneA.id }));
      expect(await template()).toMatchObject({ size: VIRTUAL, physicalsize: fileBytes() });
    });
  });

  it('prefers the virtual size recorded on the template', async () => {
    await withVirtualSize(VIRTUAL + 512, async () => {
      expect((await template()).size).toBe(VIRTUAL + 512);
    });
  });
});

describe('listVolumes and listSnapshots', () => {
  it("show a volume's size and virtualsize as its guest-visible size", async () => {
    const started = await api().call('createVolume', {
      name: unique('fidelity'),
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
      templateid: templateId,
    });
    volumeId = String(started.id);
    await done(started);
    const [v] = (await api().call('listVolumes', { id: volumeId })).volume as Row[];
    expect(v).toMatchObject({ size: VIRTUAL, virtualsize: VIRTUAL });
    // Its physicalsize is what the disk takes on the pool, as measured when it was written there.
    expect(v!.physicalsize).toBe(allocated('primary-kvm-a', v!.path));
  });

  it("show a blank volume's physicalsize as what its disk takes on the pool", async () => {
    const started = await api().call('createVolume', {
      name: unique('fidelity-blank'),
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
      size: 1,
    });
    await done(started);
    const [v] = (await api().call('listVolumes', { id: String(started.id) })).volume as Row[];
    expect(v).toMatchObject({ size: 1024 ** 3, virtualsize: 1024 ** 3 });
    expect(v!.physicalsize).toBe(allocated('primary-kvm-a', v!.path));
    expect(Number(v!.physicalsize)).toBeLessThan(1024 ** 3);
  });

  it("show an uploaded qcow2's size as its virtual size and physicalsize as the bytes stored", async () => {
    const started = await api().call('uploadVolume', {
      name: unique('fidelity'),
      zoneid: lab.zoneA.id,
      format: 'QCOW2',
      url: qcow2().url,
      checksum: `{SHA-256}${qcow2().sha256}`,
    });
    await done(started);
    const [v] = (await api().call('listVolumes', { id: String(started.id) })).volume as Row[];
    expect(v).toMatchObject({ state: 'Uploaded', size: VIRTUAL, virtualsize: VIRTUAL, physicalsize: fileBytes() });
    const [row] = await query(
      (sql) => sql<{ size: string; physical_size: string }[]>`
        select size, physical_size from volumes where id = ${String(started.id)}`,
    );
    expect(row).toEqual({ size: String(VIRTUAL), physical_size: String(fileBytes()) });
  });

  it("show a snapshot's virtualsize as the volume's size and physicalsize as the backup's bytes", async () => {
    const started = await api().call('createSnapshot', { volumeid: volumeId });
    await done(started);
    const [s] = (await api().call('listSnapshots', { id: String(started.id) })).snapshot as Row[];
    const [backup] = await query(
      (sql) => sql<{ size: string }[]>`
        select size from snapshot_store_refs where snapshot_id = ${String(started.id)} and state = 'Ready'`,
    );
    expect(s).toMatchObject({ state: 'BackedUp', virtualsize: VIRTUAL, physicalsize: Number(backup!.size) });
  });
});
