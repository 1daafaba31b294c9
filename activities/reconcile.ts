// The doctor's activities: survey (read the catalogue, list every store, ask Temporal which jobs still run, judge
// with planning/reconcile.ts) and repair (abort, delete and release what the survey proved orphaned, end lying rows
// through the state machine). The repair checks each object again just before it goes, so a copy revived since the
// survey keeps its bytes.
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
  templatePoolRefs,
  templates,
  templateStoreRefs,
  volumes,
  volumeStoreRefs,
} from '../db/schema';
import { applyTransitions, RowElsewhere, RowMissing } from '../db/transitions';
import type { MultipartState } from '../plugins/image-stores/contract';
import {
  isTransitional,
  reconcile,
  type CatalogueRow,
  type Findings,
  type JobState,
  type OrphanKind,
  type StoreListing,
} from '../planning/reconcile';
import type { WithStore } from './store-access';

/** Asks Temporal how a job (workflow id) stands; a job Temporal no longer knows has ended. */
export type JobStatusReader = (workflowId: string) => Promise<JobState>;

export interface ReconcileDeps {
  db: Db;
  withStore: WithStore;
  jobStatus: JobStatusReader;
}

export interface Survey {
  findings: Findings;
  /** Stores that could not be listed (nothing on them was judged), with why. */
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
  for (const r of await db.select().from(templateStoreRefs).where(notInArray(templateStoreRefs.state, ends))) {
    copy('templateStoreRef', r, r.templateId, r.transferState);
  }
  for (const r of await db.select().from(volumeStoreRefs).where(notInArray(volumeStoreRefs.state, ends))) {
    copy('volumeStoreRef', r, r.volumeId, r.transferState);
  }
  for (const r of await db.select().from(snapshotStoreRefs).where(notInArray(snapshotStoreRefs.state, ends))) {
    copy('snapshotStoreRef', r, r.snapshotId, r.transferState);
  }
  const plain = (kind: RowKind, r: { id: string; state: RowState; jobId: string | null }, objectId: string) => {
    if (isTransitional(kind, r.state))
      out.push({ row: { kind, id: r.id, state: r.state, jobIds: [] }, objectId, jobId: r.jobId });
  };
  for (const r of await db.select().from(templatePoolRefs)) plain('templatePoolRef', r, r.templateId);
  for (const r of await db.select().from(volumes)) plain('volume', r, r.id);
  for (const r of await db.select().from(snapshots)) plain('snapshot', r, r.id);
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

export function createReconcileActivities({ db, withStore, jobStatus }: ReconcileDeps) {
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
      const asked = [...rows.filter((r) => isTransitional(r.kind, r.state)).flatMap((r) => r.jobIds)];
      const jobs = await statuses([...asked, ...leases.map((l) => l.holder)], jobStatus);
      const findings = reconcile({
        rows,
        stores,
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

      for (const { transition, why } of findings.lying) {
        try {
          await applyTransitions(db, [transition], {}, why);
          count('lying');
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
        const what = `${orphan.kind} ${orphan.key} on store ${orphan.storeId}`;
        // A copy revived at the same key since the survey (a retried copy) owns these bytes again.
        if (orphan.kind !== 'multipartUpload' && (await stillWanted(orphan.storeId, orphan.key))) {
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
