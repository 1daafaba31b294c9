import { cacheKey } from '../cache-key';
import { Priority, type DataMotionStrategy } from '../contract';

/**
 * Through a cache store (XenServer backing up to S3 or Swift): the host copies the file onto a cache store it mounts,
 * under a lease, and Ferry streams it from there to the image store; the staged copy goes when the lease ends.
 */
export const poolToStoreViaCache: DataMotionStrategy = {
  name: 'pool-to-store-via-cache',
  description: 'The host copies the file to a leased cache store it mounts; Ferry streams it on to the image store',
  rate: ({ from, to, cache }) =>
    from.kind === 'primary-pool' && to.kind === 'image-store' && cache ? Priority.DEFAULT : Priority.CANT_HANDLE,
  plan({ from, to, cache, objectId, objectType, size }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'image-store' || !cache) return [];
    const key = cacheKey(objectType, objectId, from.fileName.replace(/^\./, ''));
    return [
      { step: 'reserve-cache', lease: 'staging', storeId: cache.storeId, key, bytes: size ?? 0, objectType, objectId },
      {
        step: 'host-copy-to-path',
        lease: 'staging',
        hostId: from.hostId,
        fromPath: `${from.path}/${from.fileName}`,
        toPath: `${cache.hostPath}/${key}`,
        into: { storeId: cache.storeId, key },
      },
      { step: 'stream-between-stores', fromStoreId: cache.storeId, fromKey: key, toStoreId: to.storeId, toKey: to.key },
      { step: 'release-cache', lease: 'staging', storeId: cache.storeId, key, keepObject: false },
    ];
  },
};
