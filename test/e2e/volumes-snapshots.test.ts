// Volumes and snapshots end to end with the `cs` client on the real lab: a volume from a template on KVM, XenServer
// and VMware pools, known data written through its host, a snapshot backed up (directly, or through the cache
// store for XenServer), a volume from that snapshot in the other zone, and `qemu-img compare` on the two disks.
// Then upload/extract, and bad input that must change nothing.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolPath, sampleImages } from '../../lab/lab-layout';
import { cs, csJob } from '../support/cs';
import { runOnLabHost } from '../support/lab-hosts';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, stack, unique } from '../support/stack';
import { recordHistory, jobPlans } from '../support/temporal';

type Entity = { id: string; name: string; state: string } & Record<string, unknown>;

let lab: LabInventory;
let templateId: string;
const qcow2 = () => sampleImages().find((i) => i.format === 'QCOW2')!;
const QEMU = { QCOW2: 'qcow2', VHD: 'vpc', VMDK: 'vmdk' } as Record<string, string>;

async function ok(command: string, params: Record<string, string>) {
  const result = await cs(command, params);
  if (!result.ok) throw new Error(`${command} failed: ${result.output}`);
  return result.body;
}

async function succeeded(command: string, params: Record<string, string>) {
  const { jobid, done, started } = await csJob(command, params, 180_000);
  expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
  return { jobid, result: done.jobresult, started };
}

async function volume(id: string): Promise<Entity> {
  const body = await ok('listVolumes', { id });
  return (body.volume as Entity[])[0]!;
}

async function snapshot(id: string): Promise<Entity> {
  const body = await ok('listSnapshots', { id });
  return (body.snapshot as Entity[])[0]!;
}

const diskPath = (pool: string, v: Entity) => join(poolPath(pool), String(v.path));

/** Writes a known pattern into the disk through the pool's host (qemu-io, the guest's view of the disk). */
async function writePattern(host: string, pool: string, v: Entity, pattern: string, offset: string, length: string) {
  const written = await runOnLabHost(host, [
    'qemu-io',
    '-f',
    QEMU[String(v.format)]!,
    '-c',
    `write -P ${pattern} ${offset} ${length}`,
    diskPath(pool, v),
  ]);
  expect(written.exitCode, written.stderr).toBe(0);
}

/** `qemu-img compare` through a host: exit 0 when the guest-visible contents are identical, 1 when they differ. */
async function compare(host: string, a: { path: string; format: string }, b: { path: string; format: string }) {
  return await runOnLabHost(host, [
    'qemu-img',
    'compare',
    '-f',
    QEMU[a.format]!,
    '-F',
    QEMU[b.format]!,
    a.path,
    b.path,
  ]);
}

async function workflowMemo(jobid: string) {
  const [plan] = await jobPlans(jobid);
  return { strategy: plan?.strategy, plan: plan as { steps: { step: string; storeId?: string }[] } | undefined };
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  const { url, sha256 } = qcow2();
  const { started } = await succeeded('registerTemplate', {
    name: unique('vol-tmpl'),
    format: 'QCOW2',
    hypervisor: 'KVM',
    url,
    zoneid: '-1',
    checksum: `{SHA-256}${sha256}`,
  });
  templateId = String(started.id);
}, 240_000);

afterAll(async () => {
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('volume → snapshot → volume in the other zone', () => {
  const cases = [
    {
      hv: 'KVM',
      host: 'kvm-a1',
      pool: 'primary-kvm-a',
      to: 'kvm-b1',
      toPool: 'primary-kvm-b',
      strategy: 'pool-to-store-direct',
    },
    {
      hv: 'XenServer',
      host: 'xen-a1',
      pool: 'primary-xen-a',
      to: 'kvm-b1',
      toPool: 'primary-kvm-b',
      strategy: 'pool-to-store-via-cache',
    },
    {
      hv: 'VMware',
      host: 'vmw-b1',
      pool: 'primary-vmw-b',
      to: 'kvm-a1',
      toPool: 'primary-kvm-a',
      strategy: 'pool-to-store-direct',
    },
  ] as const;

  for (const c of cases) {
    it(`${c.hv}: the volume made from the snapshot has the same contents`, async () => {
      const poolOf = (name: string) =>
        ({
          'primary-kvm-a': lab.pools.kvmA,
          'primary-xen-a': lab.pools.xenA,
          'primary-kvm-b': lab.pools.kvmB,
          'primary-vmw-b': lab.pools.vmwB,
        })[name]!;
      const zoneOf = (pool: string) => (pool.endsWith('-a') ? lab.zoneA : lab.zoneB);

      // A volume from the template, on the hypervisor's pool, in its format.
      const made = await succeeded('createVolume', {
        name: unique('vol'),
        templateid: templateId,
        zoneid: zoneOf(c.pool).id,
        storageid: poolOf(c.pool).id,
      });
      const source = await volume(String(made.started.id));
      expect(source).toMatchObject({ state: 'Ready', storageid: poolOf(c.pool).id });
      expect(existsSync(diskPath(c.pool, source))).toBe(true);

      await writePattern(c.host, c.pool, source, '0x5a', '1M', '3M');

      const snap = await succeeded('createSnapshot', { volumeid: source.id, name: unique('snap') });
      const taken = await snapshot(String(snap.started.id));
      expect(taken).toMatchObject({ state: 'BackedUp', volumeid: source.id, locationtype: 'SECONDARY' });
      const memo = await workflowMemo(snap.jobid);
      expect(memo.strategy).toBe(c.strategy);
      if (c.strategy === 'pool-to-store-via-cache') {
        // The plan stages on the zone's cache store (the lab inventory's cache-a), under a lease.
        const caches = (await ok('listSecondaryStagingStores', { zoneid: lab.zoneA.id })).imagestore as Entity[];
        const reserve = memo.plan!.steps.find((s) => s.step === 'reserve-cache');
        expect(caches.map((s) => s.id)).toContain(reserve?.storeId);
      }

      const copied = await succeeded('createVolume', {
        name: unique('from-snap'),
        snapshotid: taken.id,
        zoneid: zoneOf(c.toPool).id,
        storageid: poolOf(c.toPool).id,
      });
      const restored = await volume(String(copied.started.id));
      expect(restored).toMatchObject({ state: 'Ready', snapshotid: taken.id, zoneid: zoneOf(c.toPool).id });

      const a = { path: diskPath(c.pool, source), format: String(source.format) };
      const b = { path: diskPath(c.toPool, restored), format: String(restored.format) };
      const same = await compare(c.to, a, b);
      expect(same.exitCode, same.stdout + same.stderr).toBe(0);
      // And the written data really is there: the restored disk differs from a bare copy of the template.
      const template = await volume(
        String(
          (
            await succeeded('createVolume', {
              name: unique('bare'),
              templateid: templateId,
              zoneid: zoneOf(c.toPool).id,
              storageid: poolOf(c.toPool).id,
            })
          ).started.id,
        ),
      );
      const tb = { path: diskPath(c.toPool, template), format: String(template.format) };
      expect((await compare(c.to, b, tb)).exitCode).toBe(1);

      if (c.hv === 'KVM') {
        await recordHistory(made.jobid, 'createVolume-success');
        await recordHistory(snap.jobid, 'takeSnapshot-success');
        await recordHistory(copied.jobid, 'createVolume-from-snapshot');
      }
      if (c.hv === 'XenServer') await recordHistory(snap.jobid, 'takeSnapshot-via-cache');
    }, 300_000);
  }
});

describe('uploadVolume and extractVolume', () => {
  it('extracts an uploaded volume as a URL whose bytes hash to what was uploaded', async () => {
    const { url, sha256 } = qcow2();
    const up = await succeeded('uploadVolume', {
      name: unique('upload'),
      url,
      format: 'QCOW2',
      zoneid: lab.zoneA.id,
      checksum: `{SHA-256}${sha256}`,
    });
    expect(await volume(String(up.started.id))).toMatchObject({ state: 'Uploaded' });
    const ex = await succeeded('extractVolume', {
      id: String(up.started.id),
      zoneid: lab.zoneA.id,
      mode: 'HTTP_DOWNLOAD',
    });
    const extracted = ex.result.volume as { url: string; state: string };
    expect(extracted.state).toBe('DOWNLOAD_URL_CREATED');
    const res = await fetch(extracted.url);
    expect(res.status).toBe(200);
    const hash = createHash('sha256');
    for await (const chunk of res.body!) hash.update(chunk as Uint8Array);
    expect(hash.digest('hex')).toBe(sha256);
    await recordHistory(up.jobid, 'uploadVolume-success');
    await recordHistory(ex.jobid, 'extractVolume-success');
  });

  it('refuses an upload whose checksum is wrong, leaving the volume UploadError and nothing on the store', async () => {
    const { url } = qcow2();
    const { jobid, done, started } = await csJob('uploadVolume', {
      name: unique('bad-sum'),
      url,
      format: 'QCOW2',
      zoneid: lab.zoneA.id,
      checksum: `{SHA-256}${'0'.repeat(64)}`,
    });
    expect(done.jobstatus).toBe(2);
    expect(String(done.jobresult.errortext)).toMatch(/checksum mismatch/);
    expect(await volume(String(started.id))).toMatchObject({ state: 'UploadError' });
    await recordHistory(jobid, 'uploadVolume-checksum-mismatch');
  });

  it('extracts a volume on primary: its host copies it to an image store, and the URL serves the disk', async () => {
    const made = await succeeded('createVolume', {
      name: unique('to-extract'),
      templateid: templateId,
      zoneid: lab.zoneB.id,
      storageid: lab.pools.vmwB.id,
    });
    const v = await volume(String(made.started.id));
    const ex = await succeeded('extractVolume', { id: v.id, zoneid: lab.zoneB.id, mode: 'HTTP_DOWNLOAD' });
    const res = await fetch((ex.result.volume as { url: string }).url);
    expect(res.status).toBe(200);
    const hash = createHash('sha256');
    for await (const chunk of res.body!) hash.update(chunk as Uint8Array);
    const onPool = await runOnLabHost('vmw-b1', ['sha256sum', diskPath('primary-vmw-b', v)]);
    expect(hash.digest('hex')).toBe(onPool.stdout.split(' ')[0]);
    await recordHistory(ex.jobid, 'extractVolume-from-primary');
  });
});

describe('bad input changes nothing', () => {
  it('refuses snapshots of unknown or destroyed volumes (431)', async () => {
    const unknown = await cs('createSnapshot', { volumeid: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.body).toMatchObject({ errorcode: 431 });
    const blank = await succeeded('createVolume', { name: unique('gone'), size: '1', zoneid: lab.zoneA.id });
    const deleted = await succeeded('deleteVolume', { id: String(blank.started.id) });
    await recordHistory(blank.jobid, 'createVolume-blank');
    await recordHistory(deleted.jobid, 'deleteVolume-success');
    const destroyed = await cs('createSnapshot', { volumeid: String(blank.started.id) });
    expect(destroyed.body).toMatchObject({ errorcode: 431 });
    expect(String(destroyed.body.errortext)).toMatch(/Unable to find Volume/);
  });

  it('refuses a snapshot of a volume whose hosts are all down (534)', async () => {
    const blank = await succeeded('createVolume', {
      name: unique('host-down'),
      size: '1',
      zoneid: lab.zoneA.id,
      storageid: lab.pools.xenA.id,
    });
    // The host monitor's verdict, set directly: the cluster's only host is Down.
    const sql = postgres(stack().databaseUrl, { max: 1 });
    const [pool] = await sql<
      { cluster_id: string }[]
    >`select cluster_id from storage_pools where id = ${lab.pools.xenA.id}`;
    try {
      await sql`update hosts set state = 'Down' where cluster_id = ${pool!.cluster_id}`;
      const refused = await cs('createSnapshot', { volumeid: String(blank.started.id) });
      expect(refused.body).toMatchObject({ errorcode: 534 });
      expect(String(refused.body.errortext)).toMatch(/No host of cluster .* is Up/);
      const [count] = await sql`select count(*)::int as n from snapshots where volume_id = ${String(blank.started.id)}`;
      expect(count!.n).toBe(0);
    } finally {
      await sql`update hosts set state = 'Up' where cluster_id = ${pool!.cluster_id}`;
      await sql.end();
    }
  });

  it('needs zoneid for a volume from a snapshot, and a zone that reaches the backup (431)', async () => {
    const made = await succeeded('createVolume', {
      name: unique('zone-only'),
      size: '1',
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
    });
    // With the region store read-only, the backup goes to zone A's NFS store, which zone B cannot reach.
    await ok('updateImageStore', { id: lab.stores.s3Region.id, readonly: 'true' });
    let snapId: string;
    try {
      const snap = await succeeded('createSnapshot', { volumeid: String(made.started.id) });
      snapId = String(snap.started.id);
    } finally {
      await ok('updateImageStore', { id: lab.stores.s3Region.id, readonly: 'false' });
    }
    const before = ((await ok('listVolumes', {})).volume as Entity[]).length;
    const noZone = await cs('createVolume', { snapshotid: snapId, name: unique('x') });
    expect(noZone.body).toMatchObject({ errorcode: 431 });
    expect(String(noZone.body.errortext)).toMatch(/zoneid is required/);
    const unreachable = await cs('createVolume', { snapshotid: snapId, zoneid: lab.zoneB.id, name: unique('x') });
    expect(unreachable.body).toMatchObject({ errorcode: 431 });
    expect(String(unreachable.body.errortext)).toMatch(/cannot reach/);
    expect(((await ok('listVolumes', {})).volume as Entity[]).length).toBe(before);
    // In its own zone it works (the NFS copy is reachable there).
    await succeeded('createVolume', { snapshotid: snapId, zoneid: lab.zoneA.id, name: unique('same-zone') });
  });

  it('takes a volume name full of shell metacharacters literally: it works and nothing is executed', async () => {
    const marker = join('/tmp', `ferry-pwned-${Date.now()}`);
    const name = `$(touch ${marker});\`touch ${marker}\`|touch ${marker}&'"<>`;
    const made = await succeeded('createVolume', {
      name,
      size: '1',
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
    });
    const v = await volume(String(made.started.id));
    expect(v.name).toBe(name);
    const snap = await succeeded('createSnapshot', { volumeid: v.id });
    expect((await snapshot(String(snap.started.id))).state).toBe('BackedUp');
    expect(existsSync(marker)).toBe(false);
    const deleted = await succeeded('deleteSnapshot', { id: String(snap.started.id) });
    expect((await cs('listSnapshots', { id: String(snap.started.id) })).body.count ?? 0).toBe(0);
    await recordHistory(deleted.jobid, 'deleteSnapshot-success');
  });
});
