import { Priority, type DataMotionStrategy } from '../contract';

/**
 * Hypervisor storage motion (XenMotion, vMotion, KVM's qemu-img between pools): a host that sees both pools copies
 * and converts the disk in one step, and checks the copy's guest-visible content against the source before it takes
 * its final name. Works on a live volume too.
 */
export const hypervisorStorageMotion: DataMotionStrategy = {
  name: 'hypervisor-storage-motion',
  description: 'A host that sees both pools copies and converts the disk in one step, then compares the contents',
  rate: ({ from, to }) =>
    from.kind === 'primary-pool' &&
    to.kind === 'primary-pool' &&
    from.poolId !== to.poolId &&
    from.clusterId === to.clusterId
      ? Priority.HYPERVISOR
      : Priority.CANT_HANDLE,
  plan({ from, to, format }) {
    if (from.kind !== 'primary-pool' || to.kind !== 'primary-pool') return [];
    return [
      {
        step: 'host-fetch-convert',
        hostId: to.hostId,
        source: { path: `${from.path}/${from.fileName}` },
        sourceFormat: format,
        poolPath: to.path,
        fileName: to.fileName,
        targetFormat: to.targetFormat,
        verify: true,
      },
    ];
  },
};
