// The doctor's activities: survey (read the catalogue, list every store, ask Temporal which jobs still run, judge
// with planning/reconcile.ts) and repair (abort, delete and release what the survey proved orphaned, end lying rows
// through the state machine). The repair checks each object again just before it goes, so a copy revived since the
// survey keeps its bytes.
import { posix } from 'node:path';
import { and, eq, ne, notInArray } from 'drizzle-orm';
import type { Transition } from '../core/plan';
import type { CopyState, RowKind, RowState } from '../core/state-machine';
import type { Db } from '../db/client';
import {
  asyncJobs,
  cacheLeases,
  cacheObjects,
  hosts,
  imageStores,
  snapshots,
  snapshotStoreRefs,
  storagePools,
  templatePoolRefs,
  templates,
  templateStoreRefs,
  volumes,
  volumeStoreRefs,
} from '../db/schema';
import { applyTransitions, lockRow, RowElsewhere, RowMissing } from '../db/transitions';
import type { MultipartState } from '../plugins/image-stores/contract';
import type { SecretBox } from '../db/secret-box';
import type { SshExecutor } from '../ssh/executor';
import { listPool, removeHostSnapshot, removePoolFile } from './pool-listing';
import {
  isTransitional,
  reconcile,
  type CatalogueRow,
  type Findings,
  type JobState,
  poolOwningId,
  sameOwners,
  uploadWanted,
  type OrphanKind,
  type PoolListing,
  type StoreListing,
} from '../planning/reconcile';
import type { WithStore } from './store-access';

/** Asks Temporal how a job (workflow id) stands; a job Temporal no longer knows has ended. */
export type JobStatusReader = (workflowId: string) => Promise<JobState>;

export interface ReconcileDeps {
  db: Db;
  withStore: WithStore;
  jobStatus: JobStatusReader;
  ssh: SshExecutor;
  secrets: SecretBox;
}

export interface Survey {
  findings: Findings;
  /** Stores and primary pools that could not be listed (nothing on them was judged), with why. */
  unlisted: { storeId: string; storeName: string; reason: string }[];
}

export type RepairCounts = Partial<Record<OrphanKind | 'lying', number>>;

export interface Repair {
  repaired: RepairCounts;
  /** What the repair left because it changed since the survey or could not be done, with why. */
  skipped: { what: string; reason: string }[];
}

/** Copies in these states account for no bytes. */
const ends: CopyState[] = ['Failed', 'Destroyed'];
const CONCURRENT_STATUS_QUERIES = 8;

async function readRows(db: Db): Promise<{ row: CatalogueRow; objectId: string; jobId: string | null }[]> {
  const out: { row: CatalogueRow; objectId: string; jobId: string | null }[] = [];
  const copy = (
    kind: RowKind,
    r: { id: string; state: RowState; storeId: string; installPath: string; jobId: string | null },
    objectId: string,
    saved: MultipartState | null,
  ) =>
    out.push({
      row: {
        kind,
        id: r.id,
        state: r.state,
        jobIds: [],
        store: { storeId: r.storeId, key: r.installPath, ...(saved ? { uploadId: saved.uploadId } : {}) },
      },
      objectId,
      jobId: r.jobId,
    });
  const withObject = (objectId: string) => {
    const last = out[out.length - 1]!;
    last.row = { ...last.row, objectId };
  };
  for (const r of await db.select().from(templateStoreRefs).where(notInArray(templateStoreRefs.state, ends))) {
    copy('templateStoreRef', r, r.templateId, r.transferState);
    withObject(r.templateId);
  }
  for (const r of await db.select().from(volumeStoreRefs).where(notInArray(volumeStoreRefs.state, ends))) {
    copy('volumeStoreRef', r, r.volumeId, r.transferState);
    withObject(r.volumeId);
  }
  for (const r of await db.select().from(snapshotStoreRefs).where(notInArray(snapshotStoreRefs.state, ends))) {
    copy('snapshotStoreRef', r, r.snapshotId, r.transferState);
    withObject(r.snapshotId);
  }
  const plain = (kind: RowKind, r: { id: string; state: RowState; jobId: string | null }, objectId: string) => {
    if (isTransitional(kind, r.state))
      out.push({ row: { kind, id: r.id, state: r.state, jobIds: [], objectId }, objectId, jobId: r.jobId });
  };
  // Pool copies, volumes and snapshots account for files on primary pools whatever their state, so all are read.
  for (const r of await db.select().from(templatePoolRefs).where(notInArray(templatePoolRefs.state, ends))) {
    const row: CatalogueRow = {
      kind: 'templatePoolRef',
      id: r.id,
      state: r.state,
      jobIds: [],
      objectId: r.templateId,
      pool: { poolId: r.poolId, file: posix.basename(r.installPath) },
    };
    out.push({ row, objectId: r.templateId, jobId: r.jobId });
  }
  const disks = new Map<string, { poolId: string; file: string }>();
  for (const r of await db.select().from(volumes)) {
    const pool = r.poolId && r.path ? { poolId: r.poolId, file: posix.basename(r.path) } : undefined;
    if (pool) disks.set(r.id, pool);
    // A volume not expunged keeps its disk, in error or not: only a job's leftovers beside it are judged.
    const row: CatalogueRow = {
      kind: 'volume',
      id: r.id,
      state: r.state,
      jobIds: [],
      objectId: r.id,
      keeps: r.state !== 'Expunged',
      ...(pool ? { pool } : {}),
    };
    out.push({ row, objectId: r.id, jobId: r.jobId });
  }
  for (const r of await db.select().from(snapshots)) {
    const disk = disks.get(r.volumeId);
    const handle = r.primaryHandle;
    // The adapter names a snapshot on primary either as a file beside the disk (a path) or inside it (a name).
    const where =
      disk && handle
        ? handle.includes('/')
          ? { pool: { poolId: disk.poolId, file: posix.basename(handle) } }
          : { hostSnapshot: { ...disk, name: handle } }
        : {};
    const row: CatalogueRow = {
      kind: 'snapshot',
      id: r.id,
      state: r.state,
      jobIds: [],
      objectId: r.id,
      keeps: r.state === 'BackedUp',
      ...where,
    };
    out.push({ row, objectId: r.id, jobId: r.jobId });
  }
  for (const r of await db.select().from(hosts)) plain('host', { ...r, jobId: null }, r.id);
  return out;
}

/** Every object and open upload of one store, or why it could not be listed. */
async function listStore(
  withStore: WithStore,
  store: { id: string; role: 'Image' | 'ImageCache' },
): Promise<StoreListing> {
  return await withStore(store.id, async (driver) => {
    const objects = [];
    for await (const o of driver.list('')) objects.push(o);
    const uploads = [];
    for await (const u of driver.multipart.listUploads('')) uploads.push(u);
    return { storeId: store.id, role: store.role, listed: true, objects, uploads };
  });
}

async function statuses(ids: Iterable<string>, read: JobStatusReader): Promise<Record<string, JobState>> {
  const queue = [...new Set(ids)];
  const jobs: Record<string, JobState> = {};
  await Promise.all(
    Array.from({ length: CONCURRENT_STATUS_QUERIES }, async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) jobs[id] = await read(id);
    }),
  );
  return jobs;
}

export function createReconcileActivities({ db, withStore, jobStatus, ssh, secrets }: ReconcileDeps) {
  const poolAccess = { db, ssh, secrets };

  /**
   * True while the catalogue wants this pool file or snapshot again since the survey: a row points at it, or a job
   * (a row of its id in a transitional state, after the lying rows were ended) may be working on it.
   */
  async function poolThingWanted(ownerId: string, file: string, name?: string): Promise<boolean> {
    const read = await readRows(db);
    const diskOwner = name === undefined ? undefined : poolOwningId(file);
    return read.some(({ row }) => {
      const moving = isTransitional(row.kind, row.state);
      if (moving && row.objectId !== undefined && (row.objectId === ownerId || row.objectId === diskOwner)) return true;
      if (!moving && !(row.keeps ?? row.state === 'Ready')) return false;
      // By name on any pool: two pool rows can be one directory.
      if (name === undefined) return row.pool?.file === file;
      const h = row.hostSnapshot;
      return h?.file === file && h.name === name;
    });
  }

  /** True while some copy or cache row (not ended) accounts for this key of this store. */
  async function stillWanted(storeId: string, key: string): Promise<boolean> {
    for (const table of [templateStoreRefs, volumeStoreRefs, snapshotStoreRefs]) {
      const rows = await db
        .select({ id: table.id })
        .from(table)
        .where(and(eq(table.storeId, storeId), eq(table.installPath, key), notInArray(table.state, ends)));
      if (rows.length > 0) return true;
    }
    const cached = await db
      .select({ id: cacheObjects.id })
      .from(cacheObjects)
      .where(and(eq(cacheObjects.storeId, storeId), eq(cacheObjects.key, key), ne(cacheObjects.state, 'Evicted')));
    return cached.length > 0;
  }

  /** True while an open upload is wanted again since the survey (uploadWanted), or a lease is writing its key. */
  async function uploadStillWanted(storeId: string, key: string, uploadId: string): Promise<boolean> {
    for (const [kind, table] of [
      ['templateStoreRef', templateStoreRefs],
      ['volumeStoreRef', volumeStoreRefs],
      ['snapshotStoreRef', snapshotStoreRefs],
    ] as const) {
      const rows = await db
        .select({ state: table.state, saved: table.transferState })
        .from(table)
        .where(and(eq(table.storeId, storeId), eq(table.installPath, key), notInArray(table.state, ends)));
      const now = rows.map((r) => ({ kind, state: r.state, ...(r.saved ? { uploadId: r.saved.uploadId } : {}) }));
      if (uploadWanted(now, uploadId)) return true;
    }
    const leased = await db
      .select({ id: cacheLeases.id })
      .from(cacheLeases)
      .where(and(eq(cacheLeases.storeId, storeId), eq(cacheLeases.key, key), eq(cacheLeases.state, 'Active')));
    return leased.length > 0;
  }

  return {
    async surveyCatalogue({ graceSeconds }: { graceSeconds: number }): Promise<Survey> {
      const now = new Date();
      const read = await readRows(db);
      const jobsOf = new Map<string, string[]>();
      for (const j of await db.select({ id: asyncJobs.id, instanceId: asyncJobs.instanceId }).from(asyncJobs)) {
        if (j.instanceId) jobsOf.set(j.instanceId, [...(jobsOf.get(j.instanceId) ?? []), j.id]);
      }
      const rows = read.map(({ row, objectId, jobId }) => ({
        ...row,
        jobIds: [...new Set([...(jobId ? [jobId] : []), ...(jobsOf.get(objectId) ?? [])])],
      }));
      const leases = await db
        .select({
          id: cacheLeases.id,
          storeId: cacheLeases.storeId,
          key: cacheLeases.key,
          holder: cacheLeases.holder,
          created: cacheLeases.created,
        })
        .from(cacheLeases)
        .where(eq(cacheLeases.state, 'Active'));
      const owned = new Set<string>();
      for (const table of [templates, volumes, snapshots]) {
        for (const r of await db.select({ id: table.id }).from(table)) owned.add(r.id);
      }
      const cached = await db
        .select({ storeId: cacheObjects.storeId, key: cacheObjects.key, state: cacheObjects.state })
        .from(cacheObjects);

      const unlisted: Survey['unlisted'] = [];
      const stores: StoreListing[] = [];
      for (const store of await db.select().from(imageStores)) {
        try {
          stores.push(await listStore(withStore, store));
        } catch (err) {
          unlisted.push({ storeId: store.id, storeName: store.name, reason: (err as Error).message });
          stores.push({ storeId: store.id, role: store.role, listed: false, objects: [], uploads: [] });
        }
      }
      const pools: PoolListing[] = [];
      const disksOn = new Map<string, string[]>();
      for (const { row } of read) {
        if (row.kind === 'volume' && row.pool) {
          disksOn.set(row.pool.poolId, [...(disksOn.get(row.pool.poolId) ?? []), row.pool.file]);
        }
      }
      for (const pool of await db.select().from(storagePools)) {
        try {
          pools.push(await listPool(poolAccess, pool.id, disksOn.get(pool.id) ?? []));
        } catch (err) {
          unlisted.push({ storeId: pool.id, storeName: pool.name, reason: (err as Error).message });
          pools.push({ poolId: pool.id, listed: false, files: [], snapshots: [] });
        }
      }
      const asked = [...rows.filter((r) => isTransitional(r.kind, r.state)).flatMap((r) => r.jobIds)];
      const jobs = await statuses([...asked, ...leases.map((l) => l.holder)], jobStatus);
      const findings = reconcile({
        rows,
        stores,
        pools,
        cacheObjects: cached,
        leases,
        ownedIds: owned,
        jobs,
        now,
        graceSeconds,
      });
      return { findings, unlisted };
    },

    async repairFindings(findings: Findings): Promise<Repair> {
      const repaired: RepairCounts = {};
      const skipped: Repair['skipped'] = [];
      const count = (kind: OrphanKind | 'lying') => (repaired[kind] = (repaired[kind] ?? 0) + 1);
      const name = (t: Transition) => `${t.row.kind} ${t.row.id}`;

      for (const { transition, why, objectId, jobIds } of findings.lying) {
        try {
          // Minutes may have passed since the survey: with the row locked, end it only if the jobs that own it are
          // still the ended ones surveyed. A new job's claim (a second migration) must not be ended for the first.
          const ended = await db.transaction(async (tx) => {
            const now = await lockRow(tx, transition.row.kind, transition.row.id);
            if (!now) throw new RowMissing(`the ${name(transition)} no longer exists`);
            const started = objectId
              ? await tx.select({ id: asyncJobs.id }).from(asyncJobs).where(eq(asyncJobs.instanceId, objectId))
              : [];
            const owners = [...(now.jobId ? [now.jobId] : []), ...started.map((j) => j.id)];
            if (!sameOwners(jobIds, owners)) return false;
            await applyTransitions(tx, [transition], {}, why);
            return true;
          });
          if (ended) count('lying');
          else skipped.push({ what: name(transition), reason: 'a job has taken it since the survey' });
        } catch (err) {
          if (!(err instanceof RowElsewhere || err instanceof RowMissing)) throw err;
          skipped.push({ what: name(transition), reason: err.message });
        }
      }
      for (const orphan of findings.orphans) {
        if (orphan.kind === 'lease') {
          const lease: Transition = {
            row: { kind: 'cacheLease', id: orphan.leaseId },
            from: ['Active'],
            to: 'Released',
          };
          try {
            await applyTransitions(db, [lease]);
            await db
              .update(cacheLeases)
              .set({ released: new Date() })
              .where(and(eq(cacheLeases.id, orphan.leaseId), eq(cacheLeases.state, 'Released')));
            count('lease');
          } catch (err) {
            if (!(err instanceof RowElsewhere || err instanceof RowMissing)) throw err;
            skipped.push({ what: `lease ${orphan.leaseId}`, reason: err.message });
          }
          continue;
        }
        if (orphan.kind === 'poolFile' || orphan.kind === 'hostSnapshot') {
          const name = orphan.kind === 'hostSnapshot' ? orphan.name : undefined;
          const what = `${orphan.kind} ${orphan.file}${name ? ` snapshot ${name}` : ''} on pool ${orphan.poolId}`;
          // Asked again inside the host session, just before the removal: the wait for one of the host's slots
          // can be long, and a job may take the file meanwhile.
          const wanted = () => poolThingWanted(orphan.ownerId, orphan.file, name);
          try {
            const removed =
              name === undefined
                ? await removePoolFile(poolAccess, orphan.poolId, orphan.file, wanted)
                : await removeHostSnapshot(poolAccess, orphan.poolId, orphan.file, name, wanted);
            if (!removed) {
              skipped.push({ what, reason: 'a row or a job accounts for it again' });
              continue;
            }
            count(orphan.kind);
          } catch (err) {
            skipped.push({ what, reason: (err as Error).message });
          }
          continue;
        }
        const what = `${orphan.kind} ${orphan.key} on store ${orphan.storeId}`;
        // A copy revived at the same key since the survey (a retried copy) owns these bytes again.
        const wanted =
          orphan.kind === 'multipartUpload'
            ? await uploadStillWanted(orphan.storeId, orphan.key, orphan.uploadId)
            : await stillWanted(orphan.storeId, orphan.key);
        if (wanted) {
          skipped.push({ what, reason: 'a row accounts for it again' });
          continue;
        }
        try {
          await withStore(orphan.storeId, (driver) =>
            orphan.kind === 'multipartUpload'
              ? driver.multipart.abort({ key: orphan.key, uploadId: orphan.uploadId, parts: [] })
              : driver.delete(orphan.key),
          );
          count(orphan.kind);
        } catch (err) {
          skipped.push({ what, reason: (err as Error).message });
        }
      }
      return { repaired, skipped };
    },
  };
}
