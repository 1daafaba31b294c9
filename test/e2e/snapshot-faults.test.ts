// Faults during a snapshot's backup, on a cluster of its own (lab host kvm-a2) so killing its sshd disturbs no one:
// the host's sshd killed mid-upload (the snapshot ends Error with the reason, nothing is left on the store, no lease
// is held, the volume is untouched) and the worker killed mid-upload (the job completes, resuming part by part).
// Also the zone that needs a cache store and has none: the job says so.
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labHostUser, poolPath, sampleImages } from '../../lab/lab-layout';
import { cs, csJob, type CsJob } from '../support/cs';
import { killLabSshd, runOnLabHost, startLabSshd } from '../support/lab-hosts';
import { writePattern } from '../support/volume-data';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { labS3Client } from '../support/lab-stores';
import { adminApi, hostFingerprint, labHost, makeCluster, stack, unique } from '../support/stack';
import { recordHistory, temporalClient } from '../support/temporal';
import { killWorkerRunning } from '../support/test-workers';

type Entity = { id: string; name: string; state: string } & Record<string, unknown>;

const MiB = 1024 * 1024;
const WRITTEN_MIB = 160; // 32 parts of 5 MiB: long enough to act mid-upload
let lab: LabInventory;
let cluster: Awaited<ReturnType<typeof makeCluster>>;
/** The snapshot the worker-crash test leaves on primary and on the store, for the host-down test. */
let kept: { volumeId: string; snapshotId: string } | undefined;

async function addLabHost(clusterId: string, name: string, hypervisor: string) {
  const h = labHost(name);
  const { done } = await csJob('addHost', {
    name: unique(name),
    clusterid: clusterId,
    hypervisor,
    url: `ssh://${h.address}:${h.port}`,
    username: labHostUser,
    hostkeyfingerprint: await hostFingerprint(name),
  });
  expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
}

/** A Ready volume on kvm-a2's pool with WRITTEN_MIB of a known pattern written through the host. */
async function volumeWithData(): Promise<{ volume: Entity; path: string }> {
  const { done, started } = await csJob('createVolume', {
    name: unique('faulty'),
    size: '1',
    zoneid: cluster.zone.id,
    storageid: cluster.storagePool.id,
  });
  expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
  const volume = ((await cs('listVolumes', { id: String(started.id) })).body.volume as Entity[])[0]!;
  const path = join(poolPath('primary-kvm-a'), String(volume.path));
  await writePattern('kvm-a2', path, WRITTEN_MIB, 0x6b);
  return { volume, path };
}

/** Starts createSnapshot and waits until the store confirmed `percent` of the upload. */
async function snapshotUnderway(volumeId: string, percent: number) {
  const started = await cs('createSnapshot', { volumeid: volumeId }, { async: true });
  const jobid = String(started.body.jobid);
  const snapshotId = String(started.body.id);
  const sql = postgres(stack().databaseUrl, { max: 1 });
  let done = 0;
  try {
    for (let i = 0; i < 600 && done < percent; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const [row] = await sql`select download_percent from snapshot_store_refs where snapshot_id = ${snapshotId}`;
      done = Number(row?.download_percent ?? 0);
    }
  } finally {
    await sql.end();
  }
  expect(done).toBeGreaterThanOrEqual(percent);
  return { jobid, snapshotId };
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  cluster = await makeCluster(adminApi(), 'KVM', 'primary-kvm-a');
  await addLabHost(cluster.cluster.id, 'kvm-a2', 'KVM');
}, 240_000);

afterAll(async () => {
  startLabSshdIfDown();
  await removeLabInventoryStorage(adminApi(), lab);
});

function startLabSshdIfDown() {
  try {
    startLabSshd('kvm-a2');
  } catch {
    // already running
  }
}

describe('faults during a snapshot backup', () => {
  it("the host's sshd killed mid-upload: Error with the reason, nothing left, no lease, the volume untouched", async () => {
    const { volume, path } = await volumeWithData();
    // The cluster's zone reaches the region S3 store of the lab inventory: the snapshot goes there, host-pushed.
    const { jobid, snapshotId } = await snapshotUnderway(volume.id, 10);
    killLabSshd('kvm-a2');
    let done;
    try {
      done = await adminApi().waitForJob(jobid, 240_000);
    } finally {
      startLabSshd('kvm-a2');
    }
    expect(done.jobstatus).toBe(2);
    const snapshot = ((await cs('listSnapshots', { volumeid: volume.id })).body.snapshot as Entity[])[0]!;
    expect(snapshot).toMatchObject({ id: snapshotId, state: 'Error' });
    expect(String(snapshot.errortext)).toMatch(/kvm-a2|127\.0\.10\.2|ECONNREFUSED|connect|closed/i);

    const client = labS3Client();
    const prefix = `snapshots/`;
    const objects = await client.send(new ListObjectsV2Command({ Bucket: lab.bucket, Prefix: prefix }));
    expect((objects.Contents ?? []).filter((o) => o.Key?.includes(volume.id))).toHaveLength(0);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: lab.bucket, Prefix: prefix }));
    expect((uploads.Uploads ?? []).filter((u) => u.Key?.includes(volume.id))).toHaveLength(0);
    client.destroy();

    const sql = postgres(stack().databaseUrl, { max: 1 });
    const leases = await sql`select id from cache_leases where holder = ${jobid} and state = 'Active'`;
    await sql.end();
    expect(leases).toHaveLength(0);

    expect(((await cs('listVolumes', { id: volume.id })).body.volume as Entity[])[0]).toMatchObject({
      state: 'Ready',
    });
    const read = await runOnLabHost('kvm-a2', ['qemu-io', '-f', 'qcow2', '-c', `read -P 0x6b 0 ${WRITTEN_MIB}M`, path]);
    expect(read.exitCode).toBe(0);
    expect(read.stdout).not.toMatch(/verification failed/);
    await recordHistory(jobid, 'takeSnapshot-host-lost');
  }, 300_000);

  it('the worker killed mid-upload: the job completes, resuming with the parts the store already confirmed', async () => {
    const { volume, path } = await volumeWithData();
    // This one stays on primary too (snapshot.keep.on.primary), for the next test to find there.
    await adminApi().call('updateConfiguration', { name: 'snapshot.keep.on.primary', value: 'true' });
    let underway;
    try {
      underway = await snapshotUnderway(volume.id, 25);
    } finally {
      await adminApi().call('updateConfiguration', { name: 'snapshot.keep.on.primary', value: 'false' });
    }
    const { jobid, snapshotId } = underway;
    kept = { volumeId: volume.id, snapshotId };
    await killWorkerRunning(jobid); // its supervisor restarts it
    const done = await adminApi().waitForJob(jobid, 240_000);
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);

    const transfer = (await (await temporalClient()).workflow.getHandle(jobid).result()) as {
      resumedParts: number;
      partsSent: number;
    };
    expect(transfer.resumedParts).toBeGreaterThan(0);
    const size = Number(
      (((await cs('listSnapshots', { id: snapshotId })).body.snapshot as Entity[])[0]!.physicalsize as number) ?? 0,
    );
    expect(transfer.resumedParts + transfer.partsSent).toBe(Math.ceil(size / (5 * MiB)));

    // The backup is whole: a volume made from it holds what was written.
    const { done: copied, started } = await csJob('createVolume', {
      snapshotid: snapshotId,
      zoneid: lab.zoneB.id,
      storageid: lab.pools.kvmB.id,
      name: unique('after-crash'),
    });
    expect(copied.jobstatus, JSON.stringify(copied.jobresult)).toBe(1);
    const restored = ((await cs('listVolumes', { id: String(started.id) })).body.volume as Entity[])[0]!;
    const same = await runOnLabHost('kvm-b1', [
      'qemu-img',
      'compare',
      path,
      join(poolPath('primary-kvm-b'), String(restored.path)),
    ]);
    expect(same.exitCode, same.stdout + same.stderr).toBe(0);
    expect(((await cs('listSnapshots', { id: snapshotId })).body.snapshot as Entity[])[0]).toMatchObject({
      state: 'BackedUp',
      locationtype: 'PRIMARY',
    });
    await recordHistory(jobid, 'takeSnapshot-worker-crash');
  }, 300_000);

  it('with the host down, extract, deleteVolume and deleteSnapshot fail with the reason and remove nothing', async () => {
    expect(kept).toBeDefined();
    const { volumeId, snapshotId } = kept!;
    const volume = ((await cs('listVolumes', { id: volumeId })).body.volume as Entity[])[0]!;
    const path = join(poolPath('primary-kvm-a'), String(volume.path));
    killLabSshd('kvm-a2');
    let results: CsJob[];
    try {
      results = await Promise.all([
        csJob('extractVolume', { id: volumeId, zoneid: cluster.zone.id, mode: 'HTTP_DOWNLOAD' }, 240_000),
        csJob('deleteSnapshot', { id: snapshotId }, 240_000),
      ]);
      results = [...results, await csJob('deleteVolume', { id: volumeId }, 240_000)];
    } finally {
      startLabSshd('kvm-a2');
    }
    for (const r of results) {
      expect(r.done.jobstatus).toBe(2);
      expect(String(r.done.jobresult.errortext)).toMatch(/127\.0\.10\.2:2222/);
    }
    const [extracted, deletedSnapshot, deletedVolume] = results;
    // The disk is still there, whole, and its snapshot still on primary.
    const info = await runOnLabHost('kvm-a2', ['qemu-img', 'snapshot', '-l', path]);
    expect(info.stdout).toContain(`ferry-${snapshotId}`);
    const read = await runOnLabHost('kvm-a2', ['qemu-io', '-f', 'qcow2', '-c', `read -P 0x6b 0 ${WRITTEN_MIB}M`, path]);
    expect(read.stdout).not.toMatch(/verification failed/);
    expect(((await cs('listSnapshots', { id: snapshotId })).body.snapshot as Entity[])[0]).toMatchObject({
      state: 'Error',
    });
    await recordHistory(extracted!.jobid, 'extractVolume-host-lost');
    await recordHistory(deletedSnapshot!.jobid, 'deleteSnapshot-host-lost');
    await recordHistory(deletedVolume!.jobid, 'deleteVolume-host-lost');
  }, 400_000);
});

describe('a zone that needs a cache store and has none', () => {
  it('refuses the command at once with a sentence that says what to add (CloudStack #7337), saving nothing', async () => {
    const xen = await makeCluster(adminApi(), 'XenServer', 'primary-xen-a');
    await addLabHost(xen.cluster.id, 'xen-a1', 'XenServer');
    const templates = (await cs('listTemplates', { templatefilter: 'all' })).body.template as Entity[] | undefined;
    let templateId = templates?.find((t) => t.crossZones === true && t.isready === true)?.id;
    if (!templateId) {
      const { url, sha256 } = sampleImages().find((i) => i.format === 'QCOW2')!;
      const reg = await csJob('registerTemplate', {
        name: unique('no-cache'),
        format: 'QCOW2',
        hypervisor: 'XenServer',
        url,
        zoneid: '-1',
        checksum: `{SHA-256}${sha256}`,
      });
      expect(reg.done.jobstatus).toBe(1);
      templateId = String(reg.started.id);
    }
    // The plan is made at the API: a move that needs a staging store the zone lacks is refused before any row.
    const name = unique('needs-cache');
    const refused = await adminApi().request('createVolume', {
      templateid: String(templateId),
      zoneid: xen.zone.id,
      storageid: xen.storagePool.id,
      name,
    });
    expect(refused.status).toBe(534);
    expect(String(refused.body.errortext)).toMatch(/no usable cache \(staging\) store.*createSecondaryStagingStore/);
    expect((await cs('listVolumes', { name })).body.volume ?? []).toEqual([]);
  }, 300_000);
});
