import type { HypervisorAdapter } from '../contract';
import { qemuImg } from '../qemu-img';

// VMware keeps VMDK disks (templates travel as OVA); simulated with qemu-img's vmdk driver.
export const vmwareAdapter: HypervisorAdapter = {
  hypervisor: 'VMware',
  diskFormat: 'OVA',
  qemuImgFormat: 'vmdk',
  requiredTools: [qemuImg],
};
