import type { HypervisorAdapter } from '../contract';
import { copySnapshotDisks, qemuImg } from '../qemu-img';

// XenServer keeps VHD disks (simulated with qemu-img's vpc driver); as in the seed, its hosts get data through a
// cache store rather than pulling object-store URLs.
export const xenServerAdapter: HypervisorAdapter = {
  hypervisor: 'XenServer',
  poolFormat: 'VHD',
  pullsUrls: false,
  requiredTools: [qemuImg],
  disks: copySnapshotDisks('vpc', 'vhd'),
};
