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
  /** Its hosts can fetch an HTTP URL themselves; if not, data reaches them through a cache store they mount. */
  readonly pullsUrls: boolean;
  /** Tools a host must have before it can be marked Up. */
  readonly requiredTools: readonly HostTool[];
}
