// evictCache: the cache stores' housekeeping, run by a Temporal Schedule (CloudStack's CacheReplacementRunner).
// First the leases of holders that died expire, then least-recently-used objects nobody leases are evicted.
// A store that cannot be reached keeps its objects and fails the run, after every other store was done.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EvictedObject } from '../activities/cache-leases';
import { FailureType } from '../core/failures';
import { catalogue } from './activity-proxies';

/** Deleting many objects over SSH can take a while; one store's trouble is reported, not retried here. */
const eviction = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

export interface EvictCacheInput {
  /** Overrides storage.cache.replacement.lru.interval (seconds) for this run. */
  olderThanSeconds?: number;
  maxBytesPerStore?: number;
}

export interface EvictCacheResult {
  enabled: boolean;
  expiredLeases: number;
  evicted: EvictedObject[];
}

export async function evictCache(input: EvictCacheInput = {}): Promise<EvictCacheResult> {
  const settings = await catalogue.readCacheReplacementSettings();
  if (!settings.enabled) return { enabled: false, expiredLeases: 0, evicted: [] };
  const expiredLeases = await catalogue.expireCacheLeases();
  const { evicted, failed } = await eviction.evictCacheObjects({
    olderThanSeconds: input.olderThanSeconds ?? settings.lruIntervalSeconds,
    ...(input.maxBytesPerStore !== undefined ? { maxBytesPerStore: input.maxBytesPerStore } : {}),
  });
  if (failed.length > 0) {
    const stores = failed.map((f) => `${f.storeName}: ${f.reason}`).join('; ');
    throw ApplicationFailure.create({
      message: `evicted ${evicted.length} cache objects, but could not evict from ${failed.length} store(s): ${stores}`,
      type: FailureType.StoreUnavailable,
      nonRetryable: true,
      details: [{ expiredLeases, evicted }],
    });
  }
  return { enabled: true, expiredLeases, evicted };
}
