import type { HypervisorAdapter } from '../contract';
import { qemuImg } from '../qemu-img';

export const kvmAdapter: HypervisorAdapter = {
  hypervisor: 'KVM',
  diskFormat: 'QCOW2',
  qemuImgFormat: 'qcow2',
  requiredTools: [qemuImg],
};
