import { cacheKey } from '../cache-key';
import { Priority, type DataMotionStrategy } from '../contract';

/**
 * Between pools no host sees both of (different clusters of one zone), through scratch storage: the source host
 * copies the disk onto a leased cache store both hosts mount, the destination host converts it from there and
 * compares the result with the staged copy. Not for a live volume: the disk must not change while it is copied.
 */
export const poolToPoolViaCache: DataMotionStrategy = {
  name: 'pool-to-pool-via-cache',
  description: 'Source host → leased cache store → destination host (converts and compares); cold volumes only',
  rate: ({ from, to, cache, live }) =>
    from.kind === 'primary-pool' && to.kind === 'primary-pool' && from.poolId !== to.poolId && cache && !live
      ? Priority.DEFAULT
      : Priority.CANT_HANDLE,
  plan({ from, to, cache, format, objectId, objectType, size }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'primary-pool' || !cache) return [];
    const key = cacheKey(objectType, objectId, from.fileName);
    const staged = `${cache.hostPath}/${key}`;
    return [
      { step: 'reserve-cache', lease: 'staging', storeId: cache.storeId, key, bytes: size ?? 0, objectType, objectId },
      {
        step: 'host-copy-to-path',
        lease: 'staging',
        hostId: from.hostId,
        fromPath: `${from.path}/${from.fileName}`,
        toPath: staged,
        into: { storeId: cache.storeId, key },
      },
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source: { path: staged },
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
        verify: true,
      },
      { step: 'release-cache', lease: 'staging', storeId: cache.storeId, key, keepObject: false },
    ];
  },
};
