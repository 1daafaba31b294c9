// Where staged data goes: the cache stores that cover a placement (zone, pod, cluster), the one the configured
// allocator chooses, and what uses a store. Read by planning (at the API, and by explainDataMotion) and by the
// API's store commands; the leases themselves are activities/cache-leases.ts.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { cacheLeases, cacheObjects, imageStores, type CacheObjectType } from '../db/schema';
import { readSetting } from '../db/settings';
import type { CacheCandidate, CachePlacement, CacheScope } from '../plugins/cache-allocators/contract';
import { defaultCacheAllocator, findCacheAllocator } from '../plugins/cache-allocators/registry';
import { findImageStoreProvider } from '../plugins/image-stores/registry';

export type { CachePlacement } from '../plugins/cache-allocators/contract';

export interface CacheChoice {
  storeId: string;
  storeName: string;
  /** Where hosts that mount the store see its objects. */
  hostPath: string;
  /** Set when the object is already Ready on the chosen store, under this key: reuse it, move no bytes. */
  cachedKey?: string;
  /** The allocator (setting storage.cache.allocator) that chose. */
  allocator: string;
}

/** The sentence an operator reads when a zone needs a cache store and has none that can be used. */
export function noCacheStoreMessage(zoneName: string, placement?: { podName?: string; clusterName?: string }): string {
  const where = placement?.clusterName
    ? ` for cluster ${placement.clusterName}`
    : placement?.podName
      ? ` for pod ${placement.podName}`
      : '';
  return (
    `Zone ${zoneName} has no usable cache (staging) store${where}: hosts that cannot read object stores directly ` +
    `(XenServer) need one. Add an NFS staging store with createSecondaryStagingStore (scope zone, or the pod or ` +
    `cluster of these hosts).`
  );
}

/** A lease that still protects its object: Active and not past its expiry (even if not yet marked Expired). */
const activeLease = sql`(${cacheLeases.state} = 'Active' and ${cacheLeases.expiresAt} > now())`;

/** Whether a store's scope covers the placement: its zone, or the placement's own pod or cluster. */
function covers(store: typeof imageStores.$inferSelect, p: CachePlacement): boolean {
  if (store.zoneId !== p.zoneId) return false;
  if (store.scope === 'ZONE') return true;
  if (store.scope === 'POD') return !!p.podId && store.podId === p.podId;
  if (store.scope === 'CLUSTER') return !!p.clusterId && store.clusterId === p.clusterId;
  return false;
}

/** Writable ImageCache stores whose scope covers the placement and that hosts can mount, with their load. */
export async function cacheCandidates(
  db: Db,
  placement: CachePlacement,
): Promise<(CacheCandidate & { cachedKey?: string })[]> {
  const stores = (
    await db
      .select()
      .from(imageStores)
      .where(
        and(
          eq(imageStores.role, 'ImageCache'),
          eq(imageStores.zoneId, placement.zoneId),
          eq(imageStores.readonly, false),
        ),
      )
      .orderBy(asc(imageStores.name))
  ).filter(
    (s) =>
      covers(s, placement) && findImageStoreProvider(s.provider)?.capabilities.hostMountable && s.settings.mountpath,
  );
  if (stores.length === 0) return [];
  const ids = stores.map((s) => s.id);
  const load = await db
    .select({
      storeId: cacheLeases.storeId,
      active: sql<number>`count(*) filter (where ${activeLease})`.mapWith(Number),
      reserved: sql<number>`coalesce(sum(${cacheLeases.bytes}) filter (where ${activeLease}), 0)`.mapWith(Number),
      recent:
        sql<number>`coalesce(sum(${cacheLeases.bytes}) filter (where ${cacheLeases.created} > now() - interval '1 hour'), 0)`.mapWith(
          Number,
        ),
    })
    .from(cacheLeases)
    .where(inArray(cacheLeases.storeId, ids))
    .groupBy(cacheLeases.storeId);
  const ready = await db
    .select({ storeId: cacheObjects.storeId, key: cacheObjects.key })
    .from(cacheObjects)
    .where(
      and(
        inArray(cacheObjects.storeId, ids),
        eq(cacheObjects.objectType, placement.objectType as CacheObjectType),
        eq(cacheObjects.objectId, placement.objectId),
        eq(cacheObjects.state, 'Ready'),
      ),
    )
    .orderBy(asc(cacheObjects.key));
  const loadOf = new Map(load.map((l) => [l.storeId, l]));
  const readyKey = new Map<string, string>();
  for (const r of ready) if (!readyKey.has(r.storeId)) readyKey.set(r.storeId, r.key);
  return stores.map((s) => ({
    storeId: s.id,
    storeName: s.name,
    hostPath: s.settings.mountpath!,
    scope: s.scope as CacheScope,
    zoneId: s.zoneId!,
    podId: s.podId ?? undefined,
    clusterId: s.clusterId ?? undefined,
    totalBytes: s.totalBytes ?? undefined,
    usedBytes: s.usedBytes ?? undefined,
    activeLeases: loadOf.get(s.id)?.active ?? 0,
    reservedBytes: loadOf.get(s.id)?.reserved ?? 0,
    recentBytes: loadOf.get(s.id)?.recent ?? 0,
    holdsObjectReady: readyKey.has(s.id),
    cachedKey: readyKey.get(s.id),
  }));
}

/** The configured allocator's choice among the candidates; undefined when no cache store serves the placement. */
export async function chooseCacheStore(db: Db, placement: CachePlacement): Promise<CacheChoice | undefined> {
  const candidates = await cacheCandidates(db, placement);
  if (candidates.length === 0) return undefined;
  const allocator = findCacheAllocator(await readSetting(db, 'storage.cache.allocator')) ?? defaultCacheAllocator;
  const chosen = candidates.find((c) => c.storeId === allocator.choose(candidates, placement)?.storeId);
  if (!chosen) return undefined;
  return {
    storeId: chosen.storeId,
    storeName: chosen.storeName,
    hostPath: chosen.hostPath,
    ...(chosen.cachedKey ? { cachedKey: chosen.cachedKey } : {}),
    allocator: allocator.name,
  };
}

/** Lease and object counts that keep a cache store from being deleted (evicted and ended ones do not count). */
export async function cacheStoreUsage(db: Db, storeId: string): Promise<{ activeLeases: number; objects: number }> {
  const [leases] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(cacheLeases)
    .where(and(eq(cacheLeases.storeId, storeId), eq(cacheLeases.state, 'Active')));
  const [objects] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(cacheObjects)
    .where(and(eq(cacheObjects.storeId, storeId), inArray(cacheObjects.state, ['Creating', 'Ready'])));
  return { activeLeases: leases?.n ?? 0, objects: objects?.n ?? 0 };
}
