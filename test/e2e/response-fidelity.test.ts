// Sizes and checksums as CloudStack shows them, for the lab's 16 MiB qcow2 sample (458752 bytes as a file): a
// template's, volume's and snapshot's `size`/`virtualsize` are guest-visible sizes, `physicalsize` the bytes stored;
// a template's `checksum` is the digest given, without its {ALGORITHM} prefix.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryHome, sampleImages } from '../../lab/lab-layout';
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
  it('shows physicalsize as the bytes stored, checksum as CloudStack does, and never the bytes as size', async () => {
    const t = await template();
    expect(fileBytes()).toBe(458752);
    expect(t.physicalsize).toBe(fileBytes());
    expect(t.checksum).toBe(qcow2().sha256);
    expect(t.sha256).toBe(qcow2().sha256);
    expect(t.size).not.toBe(fileBytes());
  });

  // Waits for the transfer's header reading (the inspector's virtualSize) to be recorded on the template row at the
  // download's commit; flip to it() when it is.
  it.fails('shows size as the virtual size from the moment it is registered', async () => {
    expect((await template()).size).toBe(VIRTUAL);
  });

  it('shows size as the virtual size once a copy on a pool measured it', async () => {
    await done(await api().call('prepareTemplate', { templateid: templateId, zoneid: lab.zoneA.id }));
    expect(await template()).toMatchObject({ size: VIRTUAL, physicalsize: fileBytes() });
  });

  it('prefers the virtual size recorded on the template', async () => {
    const sql = postgres(stack().databaseUrl, { max: 1 });
    try {
      await sql`update templates set virtual_size = ${VIRTUAL + 512} where id = ${templateId}`;
      expect((await template()).size).toBe(VIRTUAL + 512);
    } finally {
      await sql`update templates set virtual_size = null where id = ${templateId}`;
      await sql.end();
    }
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
  });

  it("show an uploaded volume's physicalsize as the bytes stored", async () => {
    const started = await api().call('uploadVolume', {
      name: unique('fidelity'),
      zoneid: lab.zoneA.id,
      format: 'QCOW2',
      url: qcow2().url,
      checksum: `{SHA-256}${qcow2().sha256}`,
    });
    await done(started);
    const [v] = (await api().call('listVolumes', { id: String(started.id) })).volume as Row[];
    expect(v).toMatchObject({ state: 'Uploaded', physicalsize: fileBytes() });
  });

  it("show a snapshot's virtualsize as the volume's size and physicalsize as the backup's bytes", async () => {
    const started = await api().call('createSnapshot', { volumeid: volumeId });
    await done(started);
    const [s] = (await api().call('listSnapshots', { id: String(started.id) })).snapshot as Row[];
    const sql = postgres(stack().databaseUrl, { max: 1 });
    try {
      const [backup] = await sql<{ size: string }[]>`
        select size from snapshot_store_refs where snapshot_id = ${String(started.id)} and state = 'Ready'`;
      expect(s).toMatchObject({ state: 'BackedUp', virtualsize: VIRTUAL, physicalsize: Number(backup!.size) });
    } finally {
      await sql.end();
    }
  });
});
