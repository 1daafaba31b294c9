import type { HypervisorAdapter } from '../contract';
import { curl, internalSnapshotDisks, qemuImg } from '../qemu-img';

export const kvmAdapter: HypervisorAdapter = {
  hypervisor: 'KVM',
  poolFormat: 'QCOW2',
  pullsUrls: true,
  requiredTools: [qemuImg, curl],
  disks: internalSnapshotDisks(),
};
