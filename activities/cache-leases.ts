// The cache (staging) framework's activities (choosing a store is planning/cache-placement.ts): lease space for a holder
// (a workflow id), mark what was staged Ready, release or renew the lease, expire dead holders' leases and evict
// unused objects least-recently-used first. Every write is a single conditional statement (or one transaction),
// so each activity is safe to run twice.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { findSetting } from '../core/settings';
import type { Db } from '../db/client';
import { cacheLeases, cacheObjects, imageStores, type CacheObjectState, type CacheObjectType } from '../db/schema';
import { readSetting } from '../db/settings';
import type { WithStore } from './store-access';

const activeLease = sql`(${cacheLeases.state} = 'Active' and ${cacheLeases.expiresAt} > now())`;

export interface CacheReplacementSettings {
  enabled: boolean;
  intervalSeconds: number;
  lruIntervalSeconds: number;
}

export async function readCacheReplacementSettings(db: Db): Promise<CacheReplacementSettings> {
  const number = async (name: string) => Number((await readSetting(db, name)) || findSetting(name)!.defaultValue);
  return {
    enabled: (await readSetting(db, 'storage.cache.replacement.enabled')) === 'true',
    intervalSeconds: await number('storage.cache.replacement.interval'),
    lruIntervalSeconds: await number('storage.cache.replacement.lru.interval'),
  };
}

export interface ReserveCacheSpaceInput {
  storeId: string;
  /** Who holds the lease: the workflow id, so a lease names the run that took it. */
  holder: string;
  key: string;
  bytes: number;
  objectType: CacheObjectType;
  objectId: string;
  ttlSeconds: number;
}

export interface EvictedObject {
  storeId: string;
  storeName: string;
  key: string;
  objectType: CacheObjectType;
  objectId: string;
  size: number;
  /** Ready and unused past the LRU interval, or Creating with no live lease (a dead holder's partial copy). */
  reason: 'lru' | 'abandoned';
}

export interface EvictionResult {
  evicted: EvictedObject[];
  /** Stores eviction could not work on (unreachable, refused): their objects stay as they were. */
  failed: { storeId: string; storeName: string; reason: string }[];
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createCacheLeaseActivities({ db, withStore }: { db: Db; withStore: WithStore }) {
  /** Deletes an object's bytes unless someone holds a live lease on it, then marks it Evicted. */
  async function evictOne(storeId: string, key: string, from: CacheObjectState[]): Promise<boolean> {
    const place = and(eq(cacheObjects.storeId, storeId), eq(cacheObjects.key, key));
    const [current] = await db.select({ state: cacheObjects.state }).from(cacheObjects).where(place);
    if (!current || !from.includes(current.state)) return false;
    // Claim first (state Evicted) so a concurrent reserve sees Evicted and stages the object again
    // instead of trusting bytes that are about to go.
    const [claimed] = await db
      .update(cacheObjects)
      .set({ state: 'Evicted', updated: new Date() })
      .where(
        and(
          place,
          eq(cacheObjects.state, current.state),
          sql`not exists (select 1 from ${cacheLeases} where ${cacheLeases.storeId} = ${cacheObjects.storeId}
                and ${cacheLeases.key} = ${cacheObjects.key} and ${activeLease})`,
        ),
      )
      .returning({ id: cacheObjects.id });
    if (!claimed) return false;
    try {
      await withStore(storeId, (driver) => driver.delete(key));
    } catch (err) {
      // The bytes are still there: say so, so a later release or eviction tries again.
      await db
        .update(cacheObjects)
        .set({ state: current.state, updated: new Date() })
        .where(and(place, eq(cacheObjects.state, 'Evicted')));
      throw err;
    }
    return true;
  }

  /** Ends a lease; what it staged goes unless `keepObject` (a template kept for reuse). */
  async function releaseLease(leaseId: string, keepObject: boolean): Promise<void> {
    const [lease] = await db.select().from(cacheLeases).where(eq(cacheLeases.id, leaseId));
    if (!lease) return; // its store was deleted, and the lease with it
    await db
      .update(cacheLeases)
      .set({ state: 'Released', released: new Date() })
      .where(and(eq(cacheLeases.id, leaseId), eq(cacheLeases.state, 'Active')));
    if (keepObject) {
      await db
        .update(cacheObjects)
        .set({ lastUsed: new Date(), updated: new Date() })
        .where(and(eq(cacheObjects.storeId, lease.storeId), eq(cacheObjects.key, lease.key)));
      return;
    }
    await evictOne(lease.storeId, lease.key, ['Creating', 'Ready']);
  }

  return {
    readCacheReplacementSettings: (): Promise<CacheReplacementSettings> => readCacheReplacementSettings(db),

    /**
     * Leases `bytes` of the store for `holder` and records the object (Creating, unless already Ready: then the
     * holder reuses it). A retry by the same holder for the same key returns the same lease, renewed.
     */
    async reserveCacheSpace(
      input: ReserveCacheSpaceInput,
    ): Promise<{ leaseId: string; objectState: 'Creating' | 'Ready' }> {
      return await db.transaction(async (tx) => {
        const [object] = await tx
          .insert(cacheObjects)
          .values({
            storeId: input.storeId,
            key: input.key,
            objectType: input.objectType,
            objectId: input.objectId,
            size: input.bytes,
            state: 'Creating',
          })
          .onConflictDoUpdate({
            target: [cacheObjects.storeId, cacheObjects.key],
            set: {
              state: sql`case when ${cacheObjects.state} = 'Ready' then 'Ready' else 'Creating' end`,
              objectType: input.objectType,
              objectId: input.objectId,
              size: sql`case when ${cacheObjects.state} = 'Ready' then ${cacheObjects.size} else ${input.bytes} end`,
              lastUsed: new Date(),
              updated: new Date(),
            },
          })
          .returning({ state: cacheObjects.state });
        const expiresAt = sql`now() + make_interval(secs => ${input.ttlSeconds})`;
        const [lease] = await tx
          .insert(cacheLeases)
          .values({
            storeId: input.storeId,
            holder: input.holder,
            key: input.key,
            bytes: input.bytes,
            expiresAt,
          })
          .onConflictDoUpdate({
            target: [cacheLeases.storeId, cacheLeases.holder, cacheLeases.key],
            set: { state: 'Active', bytes: input.bytes, expiresAt, released: null },
          })
          .returning({ id: cacheLeases.id });
        return { leaseId: lease!.id, objectState: object!.state === 'Ready' ? 'Ready' : 'Creating' };
      });
    },

    /** The holder finished staging the object: later placements may reuse it. */
    async markCacheObjectReady({ storeId, key, size }: { storeId: string; key: string; size?: number }) {
      await db
        .update(cacheObjects)
        .set({ state: 'Ready', ...(size !== undefined ? { size } : {}), lastUsed: new Date(), updated: new Date() })
        // An object evicted meanwhile (a compensation that ran first) is not brought back.
        .where(
          and(
            eq(cacheObjects.storeId, storeId),
            eq(cacheObjects.key, key),
            inArray(cacheObjects.state, ['Creating', 'Ready']),
          ),
        );
    },

    /**
     * Ends a lease. keepObject: the object stays for reuse (its last use is now). Otherwise it is deleted from the
     * store and marked Evicted, unless another holder still leases it.
     */
    /**
     * The undo of a reservation, by holder and key (it works whether or not the reservation landed): the lease ends,
     * and what it staged goes unless it is a template Ready on the cache, which stays for reuse.
     */
    async releaseCacheLeaseOf({ storeId, holder, key }: { storeId: string; holder: string; key: string }) {
      const [lease] = await db
        .select({ id: cacheLeases.id, state: cacheLeases.state })
        .from(cacheLeases)
        .where(and(eq(cacheLeases.storeId, storeId), eq(cacheLeases.holder, holder), eq(cacheLeases.key, key)));
      if (!lease) return;
      const [object] = await db
        .select({ state: cacheObjects.state, objectType: cacheObjects.objectType })
        .from(cacheObjects)
        .where(and(eq(cacheObjects.storeId, storeId), eq(cacheObjects.key, key)));
      const keepObject = object?.state === 'Ready' && object.objectType === 'template';
      await releaseLease(lease.id, keepObject);
    },

    releaseCacheLease: ({ leaseId, keepObject }: { leaseId: string; keepObject: boolean }): Promise<void> =>
      releaseLease(leaseId, keepObject),

    /**
     * Pushes a lease's expiry out. `renewed` false: it ended or lapsed (eviction may already have taken the object),
     * so the holder must reserve again rather than trust what it staged.
     */
    async renewCacheLease({ leaseId, ttlSeconds }: { leaseId: string; ttlSeconds: number }) {
      const [row] = await db
        .update(cacheLeases)
        .set({ expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})` })
        .where(and(eq(cacheLeases.id, leaseId), activeLease))
        .returning({ expiresAt: cacheLeases.expiresAt });
      return row ? { renewed: true, expiresAt: row.expiresAt.toISOString() } : { renewed: false };
    },

    /** Active leases past their expiry become Expired: how the claim of a worker that died is let go. */
    async expireCacheLeases(): Promise<number> {
      const rows = await db
        .update(cacheLeases)
        .set({ state: 'Expired', released: new Date() })
        .where(and(eq(cacheLeases.state, 'Active'), sql`${cacheLeases.expiresAt} <= now()`))
        .returning({ id: cacheLeases.id });
      return rows.length;
    },

    /**
     * Least-recently-used eviction, store by store: Ready objects with no live lease unused for `olderThanSeconds`
     * (oldest first, at most `maxBytesPerStore` bytes from one store per run), and Creating objects no live lease
     * covers (partial copies of holders that died). A store that fails is reported and left as it was.
     */
    async evictCacheObjects({
      olderThanSeconds,
      maxBytesPerStore,
    }: {
      olderThanSeconds: number;
      maxBytesPerStore?: number;
    }): Promise<EvictionResult> {
      const result: EvictionResult = { evicted: [], failed: [] };
      const unleased = sql`not exists (select 1 from ${cacheLeases} where ${cacheLeases.storeId} = ${cacheObjects.storeId}
        and ${cacheLeases.key} = ${cacheObjects.key} and ${activeLease})`;
      const candidates = await db
        .select({ object: cacheObjects, storeName: imageStores.name })
        .from(cacheObjects)
        .innerJoin(imageStores, eq(imageStores.id, cacheObjects.storeId))
        .where(
          and(
            eq(imageStores.role, 'ImageCache'),
            unleased,
            sql`((${cacheObjects.state} = 'Ready' and ${cacheObjects.lastUsed} < now() - make_interval(secs => ${olderThanSeconds}))
              or ${cacheObjects.state} = 'Creating')`,
          ),
        )
        .orderBy(asc(imageStores.name), asc(cacheObjects.lastUsed));
      const byStore = new Map<string, typeof candidates>();
      for (const c of candidates) byStore.set(c.object.storeId, [...(byStore.get(c.object.storeId) ?? []), c]);
      for (const [storeId, objects] of byStore) {
        let bytes = 0;
        try {
          for (const { object, storeName } of objects) {
            if (maxBytesPerStore !== undefined && bytes + object.size > maxBytesPerStore) break;
            if (!(await evictOne(storeId, object.key, [object.state]))) continue;
            bytes += object.size;
            result.evicted.push({
              storeId,
              storeName,
              key: object.key,
              objectType: object.objectType,
              objectId: object.objectId,
              size: object.size,
              reason: object.state === 'Ready' ? 'lru' : 'abandoned',
            });
          }
        } catch (err) {
          result.failed.push({ storeId, storeName: objects[0]!.storeName, reason: message(err) });
        }
      }
      return result;
    },
  };
}

export type CacheLeaseActivities = ReturnType<typeof createCacheLeaseActivities>;
