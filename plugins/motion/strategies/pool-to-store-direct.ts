import { Priority, type DataMotionStrategy } from '../contract';

/**
 * The pool's host sends the file to the image store itself: into the NFS path it mounts, or part by part through
 * part-upload URLs Ferry signs (the host never holds the store's credentials). KVM and VMware hosts can.
 */
export const poolToStoreDirect: DataMotionStrategy = {
  name: 'pool-to-store-direct',
  description: "The pool's host uploads the file itself (mounted path, or presigned part-upload URLs)",
  rate: ({ from, to }) =>
    from.kind === 'primary-pool' &&
    to.kind === 'image-store' &&
    (to.hostPath !== undefined || (from.hostPullsUrls && to.hostUploads))
      ? Priority.HYPERVISOR
      : Priority.CANT_HANDLE,
  plan({ from, to }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'image-store') return [];
    const path = `${from.path}/${from.fileName}`;
    return [
      to.hostPath !== undefined
        ? {
            step: 'host-copy-to-path',
            hostId: from.hostId,
            fromPath: path,
            toPath: `${to.hostPath}/${to.key}`,
            into: { storeId: to.storeId, key: to.key },
          }
        : { step: 'host-push', hostId: from.hostId, path, storeId: to.storeId, key: to.key },
    ];
  },
};
