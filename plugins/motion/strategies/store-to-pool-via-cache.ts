import { Priority, type DataMotionStrategy } from '../contract';

/**
 * Through the zone's cache store (the seed's path for XenServer): Ferry stages the object on the cache store, which
 * the pool's host mounts, and the host converts it from there.
 */
export const storeToPoolViaCache: DataMotionStrategy = {
  name: 'store-to-pool-via-cache',
  description: 'Ferry stages the object on a cache store the host mounts; the host converts it from there',
  rate: ({ from, to, cache }) =>
    from.kind === 'image-store' && to.kind === 'primary-pool' && cache ? Priority.DEFAULT : Priority.CANT_HANDLE,
  plan({ from, to, cache, format, objectId }) {
    if (from.kind !== 'image-store' || to.kind !== 'primary-pool' || !cache) return [];
    const cacheKey = `template/tmpl/cache/${objectId}/${from.key.split('/').pop()!}`;
    return [
      {
        step: 'stream-between-stores',
        fromStoreId: from.storeId,
        fromKey: from.key,
        toStoreId: cache.storeId,
        toKey: cacheKey,
      },
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source: { path: `${cache.hostPath}/${cacheKey}` },
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
      },
      { step: 'remove-store-object', storeId: cache.storeId, key: cacheKey },
    ];
  },
};
