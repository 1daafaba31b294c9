// How much a primary pool or an image store can still take, read when a write is planned (the API, just before it
// saves the rows of a job that writes), so a write that cannot fit is refused before anything is written.
//
// Pools. Hosts report a pool's size and free bytes when they are probed (`df` at addHost: storage_pool_hosts); a `df`
// over SSH at every request would be too slow. So a pool's free space is the newest probe's, less what Ferry itself
// placed there that the probe cannot have seen:
//   free = min( probedFree − Σ virtual sizes placed since the probe (volumes made after it, volumes migrating in,
//               template copies written after it),
//               capacity − Σ virtual sizes of every live object of Ferry's on the pool )
// The second term is CloudStack's allocated-capacity check for SharedMountPoint pools (no overprovisioning); it also
// counts what moved in after the probe by a finished migration, which the first cannot tell apart. Virtual sizes
// are counted, not bytes written: a thin disk may grow to its virtual size.
//
// Image stores. The driver reports what the backend knows, fresh at each check (NFS: df of the export; Swift: the
// account's bytes and quota; S3: nothing), and the report is saved on the store's row. A total the backend does not
// report is the one an operator set (updateImageStore capacitybytes, as CloudStack). Where the backend reports no use,
// the use is what Ferry stored there (its store refs); copies being written count with the size they were planned
// with (the source's length), as the backend has not seen them yet.
import { and, desc, eq, gt, inArray, notInArray, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client';
import {
  imageStores,
  snapshots,
  snapshotStoreRefs,
  storagePoolHosts,
  storagePools,
  templatePoolRefs,
  templates,
  templateStoreRefs,
  volumes,
  volumeStoreRefs,
} from '../db/schema';
import type { StoreCapacity } from '../plugins/image-stores/contract';

export interface Space {
  totalBytes?: number;
  /** Undefined when nothing tells: then nothing is refused for want of space. */
  freeBytes?: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The unit bytes are best read in: GiB from 1 GiB up, else MiB, KiB or bytes. */
export function unitOf(bytes: number): { name: string; size: number } {
  const n = Math.abs(bytes);
  if (n >= GiB) return { name: 'GiB', size: GiB };
  if (n >= MiB) return { name: 'MiB', size: MiB };
  return n >= 1024 ? { name: 'KiB', size: 1024 } : { name: 'bytes', size: 1 };
}

/** Bytes as people read them, at most two decimals, in `bytes`'s own unit or the one given. */
export function formatBytes(bytes: number, unit = unitOf(bytes)): string {
  return `${Number((bytes / unit.size).toFixed(2))} ${unit.name}`;
}

const total = (expression: SQL | AnyColumn) => sql<string | null>`coalesce(sum(${expression}), 0)`;

/**
 * A template's virtual size as best known: the one its header gave when it came in; else (registered before that was
 * recorded) a RAW or ISO image's bytes, or what a copy on a pool measured; else its bytes.
 */
export function templateSizeExpression(): SQL {
  return sql`coalesce(
    ${templates.virtualSize},
    case when ${templates.format} in ('RAW', 'ISO') then ${templates.size} end,
    (select max(${templatePoolRefs.size}) from ${templatePoolRefs}
      where ${templatePoolRefs.templateId} = ${templates.id} and ${templatePoolRefs.state} = 'Ready'),
    ${templates.size})`;
}

const LIVE_VOLUME = notInArray(volumes.state, ['Expunged', 'Destroy']);
const LIVE_COPY = notInArray(templatePoolRefs.state, ['Destroyed', 'Failed']);

/** What one volume takes on its pool: its virtual size, or (not yet measured) its template's or snapshot's. */
const volumeBytes = sql`coalesce(${volumes.size}, (${sql`select ${templateSizeExpression()} from ${templates} where ${templates.id} = ${volumes.templateId}`}), (select ${snapshots.size} from ${snapshots} where ${snapshots.id} = ${volumes.snapshotId}), 0)`;
const copyBytes = sql`coalesce(${templatePoolRefs.size}, (${sql`select ${templateSizeExpression()} from ${templates} where ${templates.id} = ${templatePoolRefs.templateId}`}), 0)`;

async function placedBytes(db: Db, poolId: string, since?: Date): Promise<number> {
  const onPool = and(eq(volumes.poolId, poolId), LIVE_VOLUME, since ? gt(volumes.created, since) : undefined);
  const movingIn = and(eq(volumes.migratingTo, poolId), eq(volumes.state, 'Migrating'));
  const [v] = await db
    .select({ bytes: total(volumeBytes) })
    .from(volumes)
    .where(or(onPool, movingIn));
  const [c] = await db
    .select({ bytes: total(copyBytes) })
    .from(templatePoolRefs)
    .where(
      and(eq(templatePoolRefs.poolId, poolId), LIVE_COPY, since ? gt(templatePoolRefs.updated, since) : undefined),
    );
  return Number(v?.bytes ?? 0) + Number(c?.bytes ?? 0);
}

/** The pool's space now (see the top of this file). */
export async function poolSpace(db: Db, poolId: string): Promise<Space> {
  const [probe] = await db
    .select()
    .from(storagePoolHosts)
    .where(eq(storagePoolHosts.poolId, poolId))
    .orderBy(desc(storagePoolHosts.updated))
    .limit(1);
  const [pool] = await db.select().from(storagePools).where(eq(storagePools.id, poolId));
  const capacity = probe?.capacityBytes ?? pool?.capacityBytes ?? undefined;
  const probedFree = probe?.availableBytes ?? pool?.availableBytes ?? undefined;
  if (capacity === undefined || probedFree === undefined) return {};
  // Without a host's probe time, everything Ferry placed counts as unseen.
  const sinceProbe = probedFree - (await placedBytes(db, poolId, probe?.updated));
  const unallocated = capacity - (await placedBytes(db, poolId));
  return { totalBytes: capacity, freeBytes: Math.max(0, Math.min(sinceProbe, unallocated)) };
}

const IN_FLIGHT = ['Allocated', 'Creating', 'Copying'] as const;
const GONE = ['Destroyed', 'Failed'] as const;

/** Bytes of Ferry's copies on a store: all live ones, and those still being written. */
async function storedBytes(db: Db, storeId: string): Promise<{ live: number; inFlight: number }> {
  let live = 0;
  let inFlight = 0;
  for (const refs of [templateStoreRefs, volumeStoreRefs, snapshotStoreRefs]) {
    const [row] = await db
      .select({
        live: total(refs.size),
        inFlight: total(sql`case when ${inArray(refs.state, [...IN_FLIGHT])} then ${refs.size} end`),
      })
      .from(refs)
      .where(and(eq(refs.storeId, storeId), notInArray(refs.state, [...GONE])));
    live += Number(row?.live ?? 0);
    inFlight += Number(row?.inFlight ?? 0);
  }
  return { live, inFlight };
}

/**
 * The store's space now, from the driver's fresh report (undefined if the backend could not be asked); the report is
 * saved on the store's row, so listImageStores shows what was last seen.
 */
export async function storeSpace(db: Db, storeId: string, reported: StoreCapacity | undefined): Promise<Space> {
  const [store] = await db.select().from(imageStores).where(eq(imageStores.id, storeId));
  if (!store) return {};
  const stored = await storedBytes(db, storeId);
  const totalBytes = reported?.totalBytes ?? store.totalBytes ?? undefined;
  const usedBytes = reported?.usedBytes !== undefined ? reported.usedBytes + stored.inFlight : stored.live;
  if (reported) {
    const seen = {
      ...(reported.totalBytes !== undefined ? { totalBytes: reported.totalBytes } : {}),
      usedBytes: reported.usedBytes ?? stored.live,
    };
    await db.update(imageStores).set(seen).where(eq(imageStores.id, storeId));
  }
  if (totalBytes === undefined) return {};
  return { totalBytes, freeBytes: Math.max(0, totalBytes - usedBytes) };
}

/** A template's virtual size as best known (see templateSizeExpression), for the space a copy of it needs. */
export async function templateVirtualBytes(db: Db, templateId: string): Promise<number | undefined> {
  const [row] = await db
    .select({ bytes: sql<string | null>`${templateSizeExpression()}` })
    .from(templates)
    .where(eq(templates.id, templateId));
  return row?.bytes == null ? undefined : Number(row.bytes);
}
