// The simulated hosts do their disk work with qemu-img (apt `qemu-utils`); adapters differ in the disk format they
// keep and in how they snapshot (KVM: qcow2 internal snapshots; XenServer and VMware: a snapshot disk beside the
// volume, as a VDI or VMDK snapshot is).
import { posix } from 'node:path';
import type { Argv, DiskSteps, HostTool, SnapshotFile } from './contract';

export const qemuImg: HostTool = { command: 'qemu-img', providedBy: 'qemu-utils', versionArgs: ['--version'] };

/** Hosts that pull object-store URLs (and push to presigned ones) do it with curl. */
export const curl: HostTool = { command: 'curl', providedBy: 'curl', versionArgs: ['--version'] };

/** qemu-img's name for the format and the create options it needs (VHD keeps the exact size asked for). */
function qemuFormat(driver: 'qcow2' | 'vpc' | 'vmdk'): { create: string[] } {
  return { create: driver === 'vpc' ? ['-o', 'force_size=on'] : [] };
}

const info =
  (driver: string) =>
  (path: string): Argv => ['qemu-img', 'info', '--output=json', '-f', driver, path];

const snapshotPath = (volumePath: string, snapshotId: string, extension: string) =>
  posix.join(posix.dirname(volumePath), `.snapshot-${snapshotId}.${extension}`);

/** qcow2 with internal snapshots: instant; exporting one writes it out as its own qcow2 file. */
export function internalSnapshotDisks(): DiskSteps {
  return {
    createBlank: (path, size) => ['qemu-img', 'create', '-q', '-f', 'qcow2', path, String(size)],
    snapshot(volumePath, snapshotId) {
      const handle = `ferry-${snapshotId}`;
      return { handle, commands: [['qemu-img', 'snapshot', '-c', handle, volumePath]] };
    },
    exportSnapshot(volumePath, handle, snapshotId): SnapshotFile {
      const path = snapshotPath(volumePath, snapshotId, 'qcow2');
      return {
        path,
        temporary: true,
        commands: [
          ['qemu-img', 'convert', '-f', 'qcow2', '-O', 'qcow2', '-l', `snapshot.name=${handle}`, volumePath, path],
        ],
      };
    },
    removeSnapshot: (volumePath, handle) => [['qemu-img', 'snapshot', '-d', handle, volumePath]],
    info: info('qcow2'),
  };
}

/** Formats without internal snapshots: the snapshot is a full copy beside the volume, itself the exportable file. */
export function copySnapshotDisks(driver: 'vpc' | 'vmdk', extension: string): DiskSteps {
  const { create } = qemuFormat(driver);
  return {
    createBlank: (path, size) => ['qemu-img', 'create', '-q', '-f', driver, ...create, path, String(size)],
    snapshot(volumePath, snapshotId) {
      const handle = snapshotPath(volumePath, snapshotId, extension);
      return {
        handle,
        commands: [['qemu-img', 'convert', '-f', driver, '-O', driver, ...create, volumePath, handle]],
      };
    },
    exportSnapshot: (_volumePath, handle) => ({ path: handle, temporary: false, commands: [] }),
    removeSnapshot: (_volumePath, handle) => [['rm', '-f', '--', handle]],
    info: info(driver),
  };
}
