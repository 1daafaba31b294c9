import type { HypervisorAdapter } from '../contract';
import { qemuImg } from '../qemu-img';

// XenServer keeps VHD disks; the lab's XenServer host is simulated with qemu-img's `vpc` driver.
export const xenServerAdapter: HypervisorAdapter = {
  hypervisor: 'XenServer',
  diskFormat: 'VHD',
  qemuImgFormat: 'vpc',
  requiredTools: [qemuImg],
};
