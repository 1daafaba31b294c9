// The cache allocator contract (CloudStack's StorageCacheAllocator): given the cache stores that can serve a
// placement, pick one. Allocators are pure functions over what the catalogue already knows, so each policy is
// testable without a database and the choice can be explained.

/** Where the staged object is needed: the zone, and the pod and cluster of the hosts that will read it. */
export interface CachePlacement {
  zoneId: string;
  podId?: string | undefined;
  clusterId?: string | undefined;
  objectType: string;
  objectId: string;
}

export type CacheScope = 'ZONE' | 'POD' | 'CLUSTER';

/** A writable cache store whose scope covers the placement, with its current load. */
export interface CacheCandidate {
  storeId: string;
  storeName: string;
  hostPath: string;
  scope: CacheScope;
  zoneId: string;
  podId?: string | undefined;
  clusterId?: string | undefined;
  totalBytes?: number | undefined;
  usedBytes?: number | undefined;
  /** Leases still Active (not yet released or expired). */
  activeLeases: number;
  /** Bytes those active leases reserved. */
  reservedBytes: number;
  /** Bytes reserved by leases taken in the last hour: a cheap stand-in for recent throughput. */
  recentBytes: number;
  /** The placement's object is already on this store, Ready (reusing it moves no bytes). */
  holdsObjectReady: boolean;
}

export interface ChooseOptions {
  /** A number in [0, 1); Math.random unless a test pins it. */
  random?: () => number;
}

export interface CacheAllocator {
  /** The value of the setting storage.cache.allocator that selects this policy. */
  readonly name: string;
  readonly description: string;
  choose(
    candidates: readonly CacheCandidate[],
    placement: CachePlacement,
    options?: ChooseOptions,
  ): CacheCandidate | undefined;
}

/** CloudStack's imageStoreHasEnoughCapacity: below 90% used, counting what active leases reserved. */
export function hasRoom(c: CacheCandidate): boolean {
  if (c.totalBytes === undefined || c.totalBytes <= 0) return true;
  return (c.usedBytes ?? 0) + c.reservedBytes < 0.9 * c.totalBytes;
}

/** Deterministic last tie-break, so the same inputs always give the same store. */
export const byName = (a: CacheCandidate, b: CacheCandidate) => a.storeName.localeCompare(b.storeName);
