// migrateVolume end to end with the `cs` client on the real lab, content verified after every move: KVM pool → KVM
// pool of the same cluster (hypervisor storage motion), kvm-a → xen-a (through the cache store, QCOW2 → VHD) and
// zone A → zone B (through the region store). Then the faults — the destination pool unwritable, the destination
// host's sshd killed, the worker killed after the commit — and a cancelled run: the source is never lost.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolPath } from '../../lab/lab-layout';
import { cs, csJob } from '../support/cs';
import { killLabSshd, startLabSshd } from '../support/lab-hosts';
import { referenceCopy, writePattern } from '../support/volume-data';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, stack, unique } from '../support/stack';
import { recordHistory, temporalClient, jobPlans } from '../support/temporal';
import { killEveryWorker } from '../support/test-workers';

type Entity = { id: string; name: string; state: string } & Record<string, unknown>;

const QEMU: Record<string, string> = { QCOW2: 'qcow2', VHD: 'vpc', VMDK: 'vmdk' };
let lab: LabInventory;
/** A second pool in kvm-a's cluster (its own directory), for hypervisor storage motion. */
let kvmA2: Entity;
let kvmA2Dir: string;
let poolDirs: Record<string, string>;

async function ok(command: string, params: Record<string, string>) {
  const result = await cs(command, params);
  if (!result.ok) throw new Error(`${command} failed: ${result.output}`);
  return result.body;
}

async function volume(id: string): Promise<Entity> {
  return ((await ok('listVolumes', { id })).volume as Entity[])[0]!;
}

const fileOf = (v: Entity) => join(poolDirs[String(v.storageid)]!, String(v.path));

/**
 * A Ready volume on `poolId` holding `mib` MiB of a known pattern (written through its host), and a reference copy of
 * its content in /tmp to compare every later place of it with.
 */
async function volumeWithData(poolId: string, zoneId: string, host: string, mib: number) {
  const made = await csJob('createVolume', { name: unique('mig'), size: '1', zoneid: zoneId, storageid: poolId });
  expect(made.done.jobstatus, JSON.stringify(made.done.jobresult)).toBe(1);
  const v = await volume(String(made.started.id));
  const path = fileOf(v);
  await writePattern(host, path, mib, 0x3c);
  return { volume: v, reference: referenceCopy(path, v.id) };
}

function sameContent(v: Entity, reference: string) {
  const result = (() => {
    try {
      execFileSync('qemu-img', ['compare', '-f', QEMU[String(v.format)]!, '-F', 'qcow2', fileOf(v), reference]);
      return 0;
    } catch (err) {
      return (err as { status: number }).status;
    }
  })();
  return result === 0;
}

/**
 * The moved volume's physicalsize is what its new disk takes (allocated blocks, as the host measured at the move),
 * not the blank disk's it had before its data was written.
 */
function expectPhysicalSizeMeasured(v: Entity, mib: number) {
  expect(v.physicalsize).toBe(statSync(fileOf(v)).blocks * 512);
  expect(Number(v.physicalsize)).toBeGreaterThan(mib * 1024 * 1024);
}

const filesOf = (dir: string, volumeId: string) => readdirSync(dir).filter((f) => f.includes(volumeId));

async function explain(volumeId: string, storageId: string) {
  const body = await ok('explainDataMotion', { volumeid: volumeId, storageid: storageId });
  return body.datamotion as { strategy: string; ratings: { strategy: string; priority: string }[] };
}

async function migrate(volumeId: string, storageId: string, extra: Record<string, string> = {}) {
  return await csJob('migrateVolume', { volumeid: volumeId, storageid: storageId, ...extra }, 300_000);
}

async function db<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(stack().databaseUrl, { max: 1 });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/** Polls until `check` holds (every 20 ms, up to `ms`). */
async function until(check: () => Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const activeLease = (jobid: string) =>
  db(async (sql) => (await sql`select id from cache_leases where holder = ${jobid} and state = 'Active'`).length > 0);

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  kvmA2Dir = poolPath(unique('primary-kvm-a-second'));
  mkdirSync(kvmA2Dir, { recursive: true });
  kvmA2 = (
    await ok('createStoragePool', {
      name: unique('kvm-a-second'),
      zoneid: lab.zoneA.id,
      podid: lab.pods.podA.id,
      clusterid: String(lab.pools.kvmA.clusterid),
      url: `SharedMountPoint://${kvmA2Dir}`,
    })
  ).storagepool as Entity;
  poolDirs = {
    [lab.pools.kvmA.id]: poolPath('primary-kvm-a'),
    [lab.pools.xenA.id]: poolPath('primary-xen-a'),
    [lab.pools.kvmB.id]: poolPath('primary-kvm-b'),
    [lab.pools.vmwB.id]: poolPath('primary-vmw-b'),
    [kvmA2.id]: kvmA2Dir,
  };
}, 240_000);

afterAll(async () => {
  for (const host of ['kvm-a1', 'xen-a1']) {
    try {
      startLabSshd(host);
    } catch {
      // running
    }
  }
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('migrateVolume moves a volume and verifies it', () => {
  it('KVM pool → KVM pool of the same cluster, by hypervisor storage motion', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 24);
    expect((await explain(v.id, kvmA2.id)).strategy).toBe('hypervisor-storage-motion');
    const { done, jobid } = await migrate(v.id, kvmA2.id);
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    const moved = await volume(v.id);
    expect(moved).toMatchObject({ state: 'Ready', storageid: kvmA2.id, format: 'QCOW2' });
    expect(sameContent(moved, reference)).toBe(true);
    expectPhysicalSizeMeasured(moved, 24);
    expect(filesOf(poolPath('primary-kvm-a'), v.id)).toEqual([]);
    expect((await jobPlans(jobid))[0]!.strategy).toBe('hypervisor-storage-motion');
    await recordHistory(jobid, 'migrateVolume-success');
  });

  it('kvm-a → xen-a in zone A, through the cache store, converted to VHD', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 24);
    const explained = await explain(v.id, lab.pools.xenA.id);
    expect(explained.strategy).toBe('pool-to-pool-via-cache');
    expect(explained.ratings).toContainEqual({ strategy: 'hypervisor-storage-motion', priority: 'CANT_HANDLE' });
    const { done, jobid } = await migrate(v.id, lab.pools.xenA.id);
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    const moved = await volume(v.id);
    expect(moved).toMatchObject({ state: 'Ready', storageid: lab.pools.xenA.id, format: 'VHD' });
    expect(sameContent(moved, reference)).toBe(true);
    expectPhysicalSizeMeasured(moved, 24);
    expect(filesOf(poolPath('primary-kvm-a'), v.id)).toEqual([]);
    expect(await activeLease(jobid)).toBe(false);
    await recordHistory(jobid, 'migrateVolume-via-cache');
  });

  it('zone A → zone B, through the region store', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 24);
    expect((await explain(v.id, lab.pools.kvmB.id)).strategy).toBe('pool-to-pool-via-store');
    const { done, jobid } = await migrate(v.id, lab.pools.kvmB.id);
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    const moved = await volume(v.id);
    expect(moved).toMatchObject({ state: 'Ready', storageid: lab.pools.kvmB.id });
    // A volume lives in its pool's zone.
    expect(moved.zoneid).toBe(lab.zoneB.id);
    expect(sameContent(moved, reference)).toBe(true);
    expectPhysicalSizeMeasured(moved, 24);
    expect(filesOf(poolPath('primary-kvm-a'), v.id)).toEqual([]);
    await recordHistory(jobid, 'migrateVolume-via-store');
  });
});

describe('faults never lose the source', () => {
  it('the destination pool unwritable: fails with the reason, the source intact and Ready, nothing left', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 24);
    const dir = poolPath('primary-xen-a');
    // The destination directory becomes read-only (a read-only bind mount: even root cannot write there).
    execFileSync('mount', ['--bind', dir, dir]);
    let result;
    try {
      execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
      result = await migrate(v.id, lab.pools.xenA.id);
    } finally {
      execFileSync('umount', [dir]);
    }
    expect(result.done.jobstatus).toBe(2);
    expect(String(result.done.jobresult.errortext)).toMatch(/Read-only file system/);
    const after = await volume(v.id);
    expect(after).toMatchObject({ state: 'Ready', storageid: lab.pools.kvmA.id });
    expect(sameContent(after, reference)).toBe(true);
    expect(filesOf(dir, v.id)).toEqual([]);
    expect(await activeLease(result.jobid)).toBe(false);
    await recordHistory(result.jobid, 'migrateVolume-failure');
  });

  it("the destination host's sshd killed during the copy: the same", async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 300);
    const started = await cs('migrateVolume', { volumeid: v.id, storageid: lab.pools.xenA.id }, { async: true });
    const jobid = String(started.body.jobid);
    // The source host is staging the disk on the cache store: the destination host goes away.
    await until(() => activeLease(jobid));
    killLabSshd('xen-a1');
    let done;
    try {
      done = await adminApi().waitForJob(jobid, 300_000);
    } finally {
      startLabSshd('xen-a1');
    }
    expect(done.jobstatus).toBe(2);
    expect(String((done.jobresult as { errortext: string }).errortext)).toMatch(/127\.0\.10\.3:2222/);
    const after = await volume(v.id);
    expect(after).toMatchObject({ state: 'Ready', storageid: lab.pools.kvmA.id });
    expect(sameContent(after, reference)).toBe(true);
    expect(filesOf(poolPath('primary-xen-a'), v.id)).toEqual([]);
    expect(await activeLease(jobid)).toBe(false);
  }, 400_000);

  it('the worker killed after the commit, before the source is deleted: the job completes, the source goes', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 200);
    const source = fileOf(v);
    const started = await cs('migrateVolume', { volumeid: v.id, storageid: lab.pools.xenA.id }, { async: true });
    const jobid = String(started.body.jobid);
    // Once the disk is staged the source host is no longer needed until the delete: take it away, so the workflow
    // commits and then waits on the delete; kill the worker there.
    await until(() =>
      db(
        async (sql) =>
          (await sql`select 1 from cache_objects where object_id = ${v.id} and state = 'Ready'`).length > 0,
      ),
    );
    killLabSshd('kvm-a1');
    try {
      await until(() =>
        db(
          async (sql) =>
            (await sql`select 1 from volumes where id = ${v.id} and pool_id = ${lab.pools.xenA.id}`).length > 0,
        ),
      );
      // Every worker: the clean-up is retrying against the dead host, so no one worker is running it now.
      killEveryWorker(); // their supervisors restart them
      expect(readdirSync(poolPath('primary-kvm-a'))).toContain(String(v.path)); // the source is still there
    } finally {
      startLabSshd('kvm-a1');
    }
    const done = await adminApi().waitForJob(jobid, 300_000);
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    const moved = await volume(v.id);
    expect(moved).toMatchObject({ state: 'Ready', storageid: lab.pools.xenA.id });
    expect(sameContent(moved, reference)).toBe(true);
    expect(readdirSync(poolPath('primary-kvm-a'))).not.toContain(source.split('/').pop());
    await recordHistory(jobid, 'migrateVolume-worker-crash-after-commit');
  }, 400_000);

  it('a cancelled run removes what it made and leaves the volume where it was', async () => {
    const { volume: v, reference } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 300);
    const started = await cs('migrateVolume', { volumeid: v.id, storageid: lab.pools.xenA.id }, { async: true });
    const jobid = String(started.body.jobid);
    await until(() => activeLease(jobid));
    // Under way: its progress shows in jobprocstatus.
    const polled = await ok('queryAsyncJobResult', { jobid });
    expect(polled).toMatchObject({ jobstatus: 0 });
    expect(polled.jobprocstatus).toBeGreaterThanOrEqual(5);
    await (await temporalClient()).workflow.getHandle(jobid).cancel();
    const done = await adminApi().waitForJob(jobid, 300_000);
    expect(done.jobstatus).toBe(2);
    const after = await volume(v.id);
    expect(after).toMatchObject({ state: 'Ready', storageid: lab.pools.kvmA.id });
    expect(sameContent(after, reference)).toBe(true);
    expect(filesOf(poolPath('primary-xen-a'), v.id)).toEqual([]);
    expect(await activeLease(jobid)).toBe(false);
    await recordHistory(jobid, 'migrateVolume-cancelled');
  }, 400_000);
});

describe('bad input changes nothing', () => {
  it('refuses an unknown pool, the pool it is on, a pool with no route, and a second migration', async () => {
    const made = await csJob('createVolume', {
      name: unique('stay'),
      size: '1',
      zoneid: lab.zoneA.id,
      storageid: lab.pools.kvmA.id,
    });
    const id = String(made.started.id);
    const before = await volume(id);
    const unknown = await cs('migrateVolume', { volumeid: id, storageid: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.body).toMatchObject({ errorcode: 431 });
    const same = await cs('migrateVolume', { volumeid: id, storageid: lab.pools.kvmA.id });
    expect(same.body).toMatchObject({ errorcode: 431 });
    expect(String(same.body.errortext)).toMatch(/already on that storage pool/);
    // Without a store both zones reach, zone B is out of reach.
    await ok('updateImageStore', { id: lab.stores.s3Region.id, readonly: 'true' });
    try {
      const noRoute = await cs('migrateVolume', { volumeid: id, storageid: lab.pools.kvmB.id });
      expect(noRoute.body).toMatchObject({ errorcode: 431 });
      expect(String(noRoute.body.errortext)).toMatch(/No route/);
    } finally {
      await ok('updateImageStore', { id: lab.stores.s3Region.id, readonly: 'false' });
    }
    expect(await volume(id)).toEqual(before);

    const { volume: big } = await volumeWithData(lab.pools.kvmA.id, lab.zoneA.id, 'kvm-a1', 200);
    await ok('updateConfiguration', { name: 'storage.pool.max.concurrent.migrations', value: '1' });
    try {
      const first = await cs('migrateVolume', { volumeid: big.id, storageid: lab.pools.xenA.id }, { async: true });
      const second = await cs('migrateVolume', { volumeid: big.id, storageid: kvmA2.id });
      expect(second.body).toMatchObject({ errorcode: 536 });
      expect(String(second.body.errortext)).toMatch(/already being migrated/);
      // The pool takes one migration at a time now: another volume waits its turn.
      const full = await cs('migrateVolume', { volumeid: id, storageid: lab.pools.xenA.id });
      expect(full.body).toMatchObject({ errorcode: 534 });
      expect(String(full.body.errortext)).toMatch(/storage.pool.max.concurrent.migrations/);
      const done = await adminApi().waitForJob(String(first.body.jobid), 300_000);
      expect(done.jobstatus).toBe(1);
    } finally {
      await ok('updateConfiguration', { name: 'storage.pool.max.concurrent.migrations', value: '2' });
    }
    expect(await volume(id)).toEqual(before);
  }, 400_000);
});
