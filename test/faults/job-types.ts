// The five job types the harness puts under faults, each on the lab inventory: how to start one, how to check that a
// completed one holds the right bytes (read back from the store or pool, never taken from Ferry's rows), and how to
// remove what it made so the next trial starts clean.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type postgres from 'postgres';
import type { FerryApiClient } from '../../api/client';
import { poolPath } from '../../lab/lab-layout';
import type { ImageSource } from '../support/image-source';
import { referenceCopy, writePattern } from '../support/volume-data';
import type { LabInventory } from '../support/lab-inventory';
import { labS3Client, readSwift } from '../support/lab-stores';
import { unique } from '../support/stack';

type Row = { id: string; state: string } & Record<string, unknown>;

export type JobTypeName =
  'registerTemplate' | 'copyTemplate' | 'createSnapshot' | 'volumeFromSnapshot' | 'migrateVolume';

export interface StartedJob {
  jobid: string;
  /** The object the job makes or moves. */
  objectId: string;
  /** The host whose sshd the job needs mid-copy, if any. */
  sshdHost?: string;
}

export interface JobType {
  name: JobTypeName;
  /** The host whose sshd a job of this type needs mid-copy (none: the sshd fault does not apply). */
  sshdHost?: string;
  start(trial: number): Promise<StartedJob>;
  /** Why a completed job's result is wrong, or undefined when its bytes are right. */
  verify(job: StartedJob): Promise<string | undefined>;
  /** Whatever state the job ended in: what must still hold (the volume a migration moved is intact). */
  verifyAfterAnyEnd?(job: StartedJob): Promise<string | undefined>;
  cleanup(job: StartedJob): Promise<void>;
}

export interface JobTypeContext {
  api: FerryApiClient;
  lab: LabInventory;
  sql: postgres.Sql;
  source: ImageSource;
}

const MiB = 1024 * 1024;
/** Small enough for many trials, big enough (with the harness's 5 MiB parts) that a fault lands mid-transfer. */
const IMAGE = 48 * MiB;
const RATE = 8 * MiB;

async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

async function s3Sha256(bucket: string, key: string): Promise<string> {
  const client = labS3Client();
  try {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await sha256Of(got.Body as AsyncIterable<Uint8Array>);
  } finally {
    client.destroy();
  }
}

/** Reads the copy on `storeId` back from the store itself and hashes it. */
async function storedSha256(ctx: JobTypeContext, storeId: string, installPath: string): Promise<string> {
  const { stores } = ctx.lab;
  if (storeId === stores.s3Region.id) return await s3Sha256(ctx.lab.bucket, installPath);
  if (storeId === stores.swiftB.id) return await sha256Of(await readSwift(ctx.lab.container, installPath));
  if (storeId === stores.nfsA.id) {
    return execFileSync('sha256sum', ['--', join(ctx.lab.nfsDirs[0]!, installPath)], { encoding: 'utf8' }).split(
      ' ',
    )[0]!;
  }
  throw new Error(`store ${storeId} is not one of the inventory's`);
}

async function jobDone(api: FerryApiClient, command: string, params: Record<string, string>): Promise<Row> {
  const started = await api.call(command, params);
  const done = await api.waitForJob(String(started.jobid), 300_000);
  if (done.jobstatus !== 1) throw new Error(`${command} failed: ${JSON.stringify(done.jobresult)}`);
  return started as Row;
}

/** Deletes, tolerating "already gone" (a compensated job made nothing to delete). */
async function remove(api: FerryApiClient, command: string, params: Record<string, string>): Promise<void> {
  try {
    const started = await api.call(command, params);
    if (typeof started.jobid === 'string') await api.waitForJob(started.jobid, 300_000);
  } catch (err) {
    if (!/does not exist|not found|Unable to find|no copy/i.test(String(err))) throw err;
  }
}

const QEMU_FORMAT: Record<string, string> = { QCOW2: 'qcow2', VHD: 'vpc', VMDK: 'vmdk', RAW: 'raw' };

async function volumeRow(api: FerryApiClient, id: string): Promise<Row | undefined> {
  return ((await api.call('listVolumes', { id })).volume as Row[] | undefined)?.[0];
}

/** The volume's file on its pool (the lab's pools are directories here) compared with a reference image. */
function sameAsReference(ctx: JobTypeContext, volume: Row, reference: string): string | undefined {
  const pools = ctx.lab.pools;
  const dirs: Record<string, string> = {
    [pools.kvmA.id]: poolPath('primary-kvm-a'),
    [pools.xenA.id]: poolPath('primary-xen-a'),
    [pools.kvmB.id]: poolPath('primary-kvm-b'),
    [pools.vmwB.id]: poolPath('primary-vmw-b'),
  };
  const file = join(dirs[String(volume.storageid)]!, String(volume.path));
  try {
    execFileSync('qemu-img', ['compare', '-f', QEMU_FORMAT[String(volume.format)]!, '-F', 'qcow2', file, reference], {
      stdio: 'ignore',
    });
    return undefined;
  } catch {
    return `volume ${volume.id} on ${String(volume.storageid)} differs from its reference`;
  }
}

/** A Ready KVM volume with `mib` MiB of a pattern written through its host, and a local reference copy. */
async function volumeWithData(ctx: JobTypeContext, mib: number, pattern: number) {
  const made = await jobDone(ctx.api, 'createVolume', {
    name: unique('faults'),
    size: '1',
    zoneid: ctx.lab.zoneA.id,
    storageid: ctx.lab.pools.kvmA.id,
  });
  const volume = (await volumeRow(ctx.api, String(made.id)))!;
  const path = join(poolPath('primary-kvm-a'), String(volume.path));
  await writePattern('kvm-a1', path, mib, pattern);
  return { volume, reference: referenceCopy(path, volume.id) };
}

export async function makeJobTypes(ctx: JobTypeContext): Promise<JobType[]> {
  const { api, lab, sql, source } = ctx;
  const expected = new Map<string, string>();

  // copyTemplate's source: one template on zone A's NFS store, copied to zone B's Swift store by each trial.
  const copySource = { size: IMAGE, seed: 900 };
  const copySha = source.add('faults-copy.raw', copySource);
  const registered = await jobDone(api, 'registerTemplate', {
    name: unique('faults-copy'),
    url: source.url('faults-copy.raw'),
    format: 'RAW',
    hypervisor: 'KVM',
    zoneid: lab.zoneA.id,
    checksum: `{SHA-256}${copySha}`,
  });
  const copyTemplateId = String(registered.id);

  // createSnapshot's volume, and volumeFromSnapshot's snapshot of it with the volume's content as reference.
  const snapVolume = await volumeWithData(ctx, 40, 0x5a);
  const baseSnapshot = await jobDone(api, 'createSnapshot', { volumeid: snapVolume.volume.id });

  // migrateVolume's volume, moved between kvm-a and xen-a (through the cache) trial after trial.
  const migrating = await volumeWithData(ctx, 32, 0x3c);
  const migrationTargets = [lab.pools.xenA.id, lab.pools.kvmA.id];

  const refOf = async (table: 'template_store_refs' | 'snapshot_store_refs', owner: string, id: string) =>
    (await sql`select * from ${sql(table)}
               where ${sql(owner)} = ${id} order by updated desc`) as unknown as {
      store_id: string;
      state: string;
      install_path: string;
      /** Snapshot backups record the SHA-256 of the bytes stored; template copies do not (the template does). */
      sha256?: string | null;
    }[];

  return [
    {
      name: 'registerTemplate',
      async start(trial) {
        const image = `faults-register-${trial}.raw`;
        const sha = source.add(image, { size: IMAGE, rate: RATE, seed: 1000 + trial });
        const body = await api.call('registerTemplate', {
          name: unique('faults-reg'),
          url: source.url(image),
          format: 'RAW',
          hypervisor: 'KVM',
          zoneid: '-1',
          checksum: `{SHA-256}${sha}`,
        });
        expected.set(String(body.id), sha);
        return { jobid: String(body.jobid), objectId: String(body.id) };
      },
      async verify(job) {
        const [ref] = (await refOf('template_store_refs', 'template_id', job.objectId)).filter(
          (r) => r.state === 'Ready',
        );
        if (!ref) return 'no Ready copy';
        const got = await storedSha256(ctx, ref.store_id, ref.install_path);
        return got === expected.get(job.objectId) ? undefined : `stored SHA-256 ${got} is not the image's`;
      },
      cleanup: (job) => remove(api, 'deleteTemplate', { id: job.objectId }),
    },
    {
      name: 'copyTemplate',
      sshdHost: 'ssvm-a', // the NFS store is reached through its storage VM's sshd
      async start() {
        const body = await api.call('copyTemplate', {
          id: copyTemplateId,
          sourcezoneid: lab.zoneA.id,
          destzoneid: lab.zoneB.id,
        });
        return { jobid: String(body.jobid), objectId: copyTemplateId, sshdHost: 'ssvm-a' };
      },
      async verify(job) {
        const ref = (await refOf('template_store_refs', 'template_id', job.objectId)).find(
          (r) => r.store_id === lab.stores.swiftB.id && r.state === 'Ready',
        );
        if (!ref) return 'no Ready copy on the destination';
        const got = await storedSha256(ctx, ref.store_id, ref.install_path);
        return got === copySha ? undefined : `copied SHA-256 ${got} is not the template's`;
      },
      async verifyAfterAnyEnd(job) {
        const source = (await refOf('template_store_refs', 'template_id', job.objectId)).find(
          (r) => r.store_id === lab.stores.nfsA.id,
        );
        if (source?.state !== 'Ready') return `the source copy is ${source?.state ?? 'gone'}`;
        const got = await storedSha256(ctx, source.store_id, source.install_path);
        return got === copySha ? undefined : 'the source copy changed';
      },
      cleanup: (job) => remove(api, 'deleteTemplate', { id: job.objectId, zoneid: lab.zoneB.id }),
    },
    {
      name: 'createSnapshot',
      sshdHost: 'kvm-a1',
      async start() {
        const body = await api.call('createSnapshot', { volumeid: snapVolume.volume.id });
        return { jobid: String(body.jobid), objectId: String(body.id), sshdHost: 'kvm-a1' };
      },
      async verify(job) {
        const [ref] = (await refOf('snapshot_store_refs', 'snapshot_id', job.objectId)).filter(
          (r) => r.state === 'Ready',
        );
        if (!ref?.sha256) return 'no Ready backup with a checksum';
        const got = await storedSha256(ctx, ref.store_id, ref.install_path);
        return got === ref.sha256 ? undefined : `the backup's bytes hash to ${got}, not the recorded ${ref.sha256}`;
      },
      async verifyAfterAnyEnd() {
        const volume = await volumeRow(api, snapVolume.volume.id);
        if (volume?.state !== 'Ready') return `the volume is ${volume?.state ?? 'gone'}`;
        return sameAsReference(ctx, volume, snapVolume.reference);
      },
      cleanup: (job) => remove(api, 'deleteSnapshot', { id: job.objectId }),
    },
    {
      name: 'volumeFromSnapshot',
      sshdHost: 'kvm-a1',
      async start() {
        const body = await api.call('createVolume', {
          name: unique('faults-restore'),
          snapshotid: String(baseSnapshot.id),
          zoneid: lab.zoneA.id,
          storageid: lab.pools.kvmA.id,
        });
        return { jobid: String(body.jobid), objectId: String(body.id), sshdHost: 'kvm-a1' };
      },
      async verify(job) {
        const volume = await volumeRow(api, job.objectId);
        if (volume?.state !== 'Ready') return `the volume is ${volume?.state ?? 'gone'}`;
        return sameAsReference(ctx, volume, snapVolume.reference);
      },
      cleanup: (job) => remove(api, 'deleteVolume', { id: job.objectId }),
    },
    {
      name: 'migrateVolume',
      sshdHost: 'kvm-a1',
      async start(trial) {
        const current = await volumeRow(api, migrating.volume.id);
        const to = migrationTargets.find((p) => p !== current?.storageid) ?? migrationTargets[trial % 2]!;
        const body = await api.call('migrateVolume', { volumeid: migrating.volume.id, storageid: to });
        return { jobid: String(body.jobid), objectId: migrating.volume.id, sshdHost: 'kvm-a1' };
      },
      verify: async (job) => {
        const volume = await volumeRow(api, job.objectId);
        if (volume?.state !== 'Ready') return `the volume is ${volume?.state ?? 'gone'}`;
        return sameAsReference(ctx, volume, migrating.reference);
      },
      // Whatever happened, the volume is Ready somewhere with its content: a migration never loses it.
      verifyAfterAnyEnd: async (job) => {
        const volume = await volumeRow(api, job.objectId);
        if (volume?.state !== 'Ready') return `the volume is ${volume?.state ?? 'gone'}`;
        return sameAsReference(ctx, volume, migrating.reference);
      },
      cleanup: () => Promise.resolve(),
    },
  ];
}
