import { Priority, type DataMotionStrategy } from '../contract';

/**
 * The pool's host fetches the object itself and converts it to its hypervisor's format: from the NFS path it mounts,
 * or from an expiring URL (hosts never hold store credentials). Needs a hypervisor that can pull (KVM, VMware).
 */
export const storeToPoolDirect: DataMotionStrategy = {
  name: 'store-to-pool-direct',
  description: "The pool's host pulls the object (mounted path or expiring URL) and converts it in place",
  rate: ({ from, to }) =>
    from.kind === 'image-store' && to.kind === 'primary-pool' && (to.hostPullsUrls || from.hostPath !== undefined)
      ? Priority.HYPERVISOR
      : Priority.CANT_HANDLE,
  plan({ from, to, format }) {
    if (from.kind !== 'image-store' || to.kind !== 'primary-pool') return [];
    const source =
      from.hostPath !== undefined ? { path: `${from.hostPath}/${from.key}` } : { storeId: from.storeId, key: from.key };
    return [
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source,
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
      },
    ];
  },
};
