import { Priority, type DataMotionStrategy } from '../contract';

/**
 * Across zones, through an image store both zones reach (a region store): the source host uploads the disk (part
 * URLs, or the mounted path), the destination host fetches and converts it, checking both the bytes it read (SHA-256
 * of what was sent) and the converted content; the transit copy is then removed. Cold volumes only.
 */
export const poolToPoolViaStore: DataMotionStrategy = {
  name: 'pool-to-pool-via-store',
  description: 'Source host → an image store both zones reach → destination host (converts and compares)',
  rate({ from, to, transit, live }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'primary-pool' || !transit || live) return Priority.CANT_HANDLE;
    const canSend = transit.hostPath !== undefined || (from.hostPullsUrls && transit.hostUploads);
    const canFetch = transit.hostPath !== undefined || to.hostPullsUrls;
    return from.poolId !== to.poolId && canSend && canFetch ? Priority.DEFAULT : Priority.CANT_HANDLE;
  },
  plan({ from, to, transit, format }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'primary-pool' || !transit) return [];
    const path = `${from.path}/${from.fileName}`;
    const mounted = transit.hostPath !== undefined ? `${transit.hostPath}/${transit.key}` : undefined;
    return [
      mounted
        ? {
            step: 'host-copy-to-path',
            hostId: from.hostId,
            fromPath: path,
            toPath: mounted,
            into: { storeId: transit.storeId, key: transit.key },
          }
        : { step: 'host-push', hostId: from.hostId, path, storeId: transit.storeId, key: transit.key },
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source: mounted ? { path: mounted } : { storeId: transit.storeId, key: transit.key },
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
        verify: true,
      },
      { step: 'remove-store-object', storeId: transit.storeId, key: transit.key },
    ];
  },
};
