import type { HostTool } from './contract';

/** Every simulated host does its disk work with qemu-img (apt `qemu-utils`). */
export const qemuImg: HostTool = { command: 'qemu-img', providedBy: 'qemu-utils', versionArgs: ['--version'] };

/** Hosts that pull object-store URLs themselves do it with curl. */
export const curl: HostTool = { command: 'curl', providedBy: 'curl', versionArgs: ['--version'] };
