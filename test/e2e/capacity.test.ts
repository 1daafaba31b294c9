// Capacity end to end: commands that write refuse with 533 and a sentence saying what is free and what is needed,
// before anything is saved, when the pool or the store cannot hold the object; what Ferry placed itself counts
// against a pool's last probe; a store whose backend reports no size (S3) uses the capacity an operator set, less
// what Ferry stored there. Nothing here fills a disk: sizes come from a source that only claims a length, from a
// 1 PiB request, from a pool's probe made smaller in the catalogue, or from a small capacity set on a store.
import { createServer, type Server } from 'node:http';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleImages } from '../../lab/lab-layout';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { listenAsSource } from '../support/lab-sites';
import { adminApi, stack, unique } from '../support/stack';

type Row = { id: string; name: string } & Record<string, unknown>;

const GiB = 1024 ** 3;
const PiB = 1024 ** 5;
let lab: LabInventory;
let sql: postgres.Sql;
let hugeSource: Server;
let hugeUrl: string;
let smallVolume: Row;
const api = () => adminApi();
const image = (format: 'QCOW2' | 'RAW') => sampleImages().find((i) => i.format === format)!;

async function rowCount(table: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: string }[]>(`select count(*) as n from ${table}`);
  return Number(row!.n);
}

/** Counts of every table a refused command could have written to. */
async function catalogue() {
  const tables = [
    'volumes',
    'templates',
    'template_store_refs',
    'volume_store_refs',
    'snapshots',
    'snapshot_store_refs',
  ];
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await rowCount(t)] as const)));
}

/** Makes the pool's last probe say `free` bytes are free (as a host's df would), for the length of `run`. */
async function withProbedFree(pool: Row, free: number, run: () => Promise<void>) {
  const saved = await sql<{ host_id: string; available_bytes: string }[]>`
    select host_id, available_bytes from storage_pool_hosts where pool_id = ${pool.id}`;
  expect(saved.length).toBeGreaterThan(0);
  await sql`update storage_pool_hosts set available_bytes = ${free}, updated = now() where pool_id = ${pool.id}`;
  try {
    await run();
  } finally {
    for (const s of saved) {
      await sql`update storage_pool_hosts set available_bytes = ${s.available_bytes}
        where pool_id = ${pool.id} and host_id = ${s.host_id}`;
    }
  }
}

async function refused(command: string, params: Record<string, string | number>, sentence: RegExp) {
  const before = await catalogue();
  const reply = await api().request(command, params);
  expect(reply.status, JSON.stringify(reply.body)).toBe(533);
  expect(String(reply.body.errortext)).toMatch(sentence);
  expect(reply.body).not.toHaveProperty('jobid');
  expect(await catalogue()).toEqual(before);
}

beforeAll(async () => {
  lab = await buildLabInventory(api());
  sql = postgres(stack().databaseUrl, { max: 1, onnotice: () => undefined });
  // A source that claims to be 1 PiB long: the API reads its headers and never its body.
  hugeSource = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(PiB) });
    res.flushHeaders();
  });
  hugeUrl = `${await listenAsSource(hugeSource)}/huge.raw`;
}, 240_000);

afterAll(async () => {
  hugeSource.closeAllConnections();
  await new Promise<void>((resolve) => hugeSource.close(() => resolve()));
  await sql.end();
  await removeLabInventoryStorage(api(), lab);
});

describe('primary pools', () => {
  it('refuse a 1 PiB volume with 533, saving nothing', async () => {
    await refused(
      'createVolume',
      { name: unique('pib'), zoneid: lab.zoneA.id, storageid: lab.pools.kvmA.id, size: 1024 * 1024 },
      new RegExp(`^Pool ${lab.pools.kvmA.name} has \\d+(\\.\\d+)? GiB free; the volume needs 1048576 GiB\\.$`),
    );
  });

  it('count what Ferry placed since the last probe, and refuse a migration into a pool without room', async () => {
    await withProbedFree(lab.pools.kvmA, 3 * GiB, async () => {
      const created = await api().call('createVolume', {
        name: unique('fits'),
        zoneid: lab.zoneA.id,
        storageid: lab.pools.kvmA.id,
        size: 2,
      });
      expect(await api().waitForJob(String(created.jobid))).toMatchObject({ jobstatus: 1 });
      smallVolume = (created.volume ?? { id: created.id }) as Row;
      // The probe still says 3 GiB free; Ferry knows it put a 2 GiB disk there since.
      await refused(
        'createVolume',
        { name: unique('too-big'), zoneid: lab.zoneA.id, storageid: lab.pools.kvmA.id, size: 2 },
        new RegExp(`^Pool ${lab.pools.kvmA.name} has 1 GiB free; the volume needs 2 GiB\\.$`),
      );
    });
    await withProbedFree(lab.pools.kvmB, GiB, async () => {
      await refused(
        'migrateVolume',
        { volumeid: smallVolume.id, storageid: lab.pools.kvmB.id },
        new RegExp(`^Pool ${lab.pools.kvmB.name} has 1 GiB free; the volume needs 2 GiB\\.$`),
      );
    });
    const [after] = await sql<{ state: string; pool_id: string; migrating_to: string | null }[]>`
      select state, pool_id, migrating_to from volumes where id = ${smallVolume.id}`;
    expect(after).toEqual({ state: 'Ready', pool_id: lab.pools.kvmA.id, migrating_to: null });
  });
});

describe('image stores', () => {
  it("refuse a template or an upload larger than the store's free space (NFS: its export's df)", async () => {
    const sentence = new RegExp(
      `^Image store ${lab.stores.nfsA.name} has \\d+(\\.\\d+)? GiB free; the (template|volume) needs 1048576 GiB\\.$`,
    );
    const base = { format: 'RAW', url: hugeUrl, zoneid: lab.zoneA.id };
    await refused('registerTemplate', { ...base, name: unique('huge'), hypervisor: 'KVM' }, sentence);
    await refused('uploadVolume', { ...base, name: unique('huge') }, sentence);
    // The df seen is kept on the store's row.
    const [nfs] = (await api().call('listImageStores', { id: lab.stores.nfsA.id })).imagestore as Row[];
    expect(Number(nfs!.disksizetotal)).toBeGreaterThan(0);
    expect(Number(nfs!.disksizeused)).toBeGreaterThan(0);
  });

  it('use the capacity an operator set where the backend reports none (S3), less what Ferry stored there', async () => {
    const store = lab.stores.s3Region;
    await api().call('updateImageStore', { id: store.id, capacitybytes: 1024 * 1024 });
    const register = (format: 'QCOW2' | 'RAW') => ({
      name: unique('cap'),
      format,
      hypervisor: 'KVM',
      zoneid: '-1',
      url: image(format).url,
      checksum: `{SHA-256}${image(format).sha256}`,
    });
    await refused(
      'registerTemplate',
      register('RAW'),
      new RegExp(`^Image store ${store.name} has 1 MiB free; the template needs 16 MiB\\.$`),
    );
    const qcow2Bytes = 458752;
    for (let i = 0; i < 2; i++) {
      const body = await api().call('registerTemplate', register('QCOW2'));
      expect(await api().waitForJob(String(body.jobid))).toMatchObject({ jobstatus: 1 });
    }
    await refused(
      'registerTemplate',
      register('QCOW2'),
      new RegExp(`^Image store ${store.name} has 128 KiB free; the template needs 448 KiB\\.$`),
    );
    // Each check saves what it saw: the capacity set, and the bytes of the two copies Ferry stored.
    const [s3] = (await api().call('listImageStores', { id: store.id })).imagestore as Row[];
    expect(s3).toMatchObject({ disksizetotal: 1024 * 1024, disksizeused: 2 * qcow2Bytes });
    // A snapshot's backup goes to the region store first: it needs the volume's size there.
    await refused(
      'createSnapshot',
      { volumeid: smallVolume.id },
      new RegExp(`^Image store ${store.name} has 128 KiB free; the snapshot needs 2 GiB\\.$`),
    );
  });
});
