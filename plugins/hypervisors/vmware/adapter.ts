import type { HypervisorAdapter } from '../contract';
import { copySnapshotDisks, curl, qemuImg } from '../qemu-img';

// VMware keeps VMDK disks on its datastores (templates may travel as OVA); simulated with qemu-img's vmdk driver.
export const vmwareAdapter: HypervisorAdapter = {
  hypervisor: 'VMware',
  poolFormat: 'VMDK',
  pullsUrls: true,
  requiredTools: [qemuImg, curl],
  disks: copySnapshotDisks('vmdk', 'vmdk'),
};
