// The hypervisor adapter contract: what a kind of hypervisor host needs and how Ferry talks to it.
// Orchestration looks adapters up by the host's hypervisor type and asks them; it never branches on vendor names.

export type HypervisorType = 'KVM' | 'XenServer' | 'VMware';

/** Disk formats as CloudStack names them (ImageFormat). */
export type DiskFormat = 'QCOW2' | 'VHD' | 'VMDK' | 'OVA' | 'RAW' | 'ISO';

export interface HostTool {
  /** The executable looked up on the host's PATH. */
  command: string;
  /** What an operator installs to provide it (for the error message). */
  providedBy: string;
  /** Arguments that print the tool's version on its first line of output. */
  versionArgs: readonly string[];
}

export interface HypervisorAdapter {
  readonly hypervisor: HypervisorType;
  /** The format this hypervisor keeps its disks in on primary storage. */
  readonly poolFormat: DiskFormat;
  /**
   * Its hosts talk HTTP to object stores themselves (fetch expiring URLs, upload parts to presigned URLs); if not,
   * data reaches them through a cache store they mount.
   */
  readonly pullsUrls: boolean;
  /** Tools a host must have before it can be marked Up. */
  readonly requiredTools: readonly HostTool[];
  /** How this hypervisor's disk work becomes commands on its hosts. */
  readonly disks: DiskSteps;
}

/** One command as an argument vector: never a shell string. */
export type Argv = readonly string[];

/** A snapshot as a standalone image file, ready to be copied off the host. */
export interface SnapshotFile {
  path: string;
  /** Commands that produce it (none if the snapshot already is that file). */
  commands: Argv[];
  /** Made only to be copied: removed once the copy is done. */
  temporary: boolean;
}

/**
 * Disk steps as host commands. Paths are built by Ferry from ids (never from names a user typed); every command is an
 * argument vector run without a shell.
 */
export interface DiskSteps {
  createBlank(path: string, sizeBytes: number): Argv;
  /** Takes a snapshot of the disk at `volumePath`: what the snapshot is called on the host, and how to make it. */
  snapshot(volumePath: string, snapshotId: string): { handle: string; commands: Argv[] };
  exportSnapshot(volumePath: string, handle: string, snapshotId: string): SnapshotFile;
  removeSnapshot(volumePath: string, handle: string): Argv[];
  /** `qemu-img info --output=json`-style facts about a disk. */
  info(path: string): Argv;
}
