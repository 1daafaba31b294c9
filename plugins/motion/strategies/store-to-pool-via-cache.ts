import { cacheKey } from '../cache-key';
import { Priority, type DataMotionStrategy, type MotionStep } from '../contract';

/**
 * Through a cache store (the seed's path for XenServer): Ferry stages the object on a cache store the pool's host
 * mounts, under a lease, and the host converts it from there. A template already staged is reused and stays staged
 * for later copies (evicted by LRU once unused); anything else is removed when the lease ends.
 */
export const storeToPoolViaCache: DataMotionStrategy = {
  name: 'store-to-pool-via-cache',
  description:
    'Ferry stages the object on a cache store the host mounts (leased, reused if there); the host converts it',
  rate: ({ from, to, cache }) =>
    from.kind === 'image-store' && to.kind === 'primary-pool' && cache ? Priority.DEFAULT : Priority.CANT_HANDLE,
  plan({ from, to, cache, format, objectId, objectType, size }) {
    if (from.kind !== 'image-store' || to.kind !== 'primary-pool' || !cache) return [];
    const key = cache.cachedKey ?? cacheKey(objectType, objectId, from.key.split('/').pop()!);
    const stage: MotionStep[] = cache.cachedKey
      ? []
      : [
          {
            step: 'stream-between-stores',
            lease: 'staging',
            fromStoreId: from.storeId,
            fromKey: from.key,
            toStoreId: cache.storeId,
            toKey: key,
          },
        ];
    return [
      { step: 'reserve-cache', lease: 'staging', storeId: cache.storeId, key, bytes: size ?? 0, objectType, objectId },
      ...stage,
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source: { path: `${cache.hostPath}/${key}` },
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
      },
      { step: 'release-cache', lease: 'staging', storeId: cache.storeId, key, keepObject: objectType === 'template' },
    ];
  },
};
