// Data in a volume's disk, written as a guest would (through the host that serves the pool), and a copy of it kept
// here to compare every later place of the volume with.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runOnLabHost } from './lab-hosts';

/** Writes `mib` MiB of the byte `pattern` at the start of the qcow2 disk at `path`, through the lab host `host`. */
export async function writePattern(host: string, path: string, mib: number, pattern: number): Promise<void> {
  const hex = `0x${pattern.toString(16)}`;
  const written = await runOnLabHost(host, ['qemu-io', '-f', 'qcow2', '-c', `write -P ${hex} 0 ${mib}M`, path]);
  if (written.exitCode !== 0) throw new Error(`qemu-io on ${host} failed: ${written.stderr}`);
}

/** A copy of the qcow2 disk at `path` in /tmp, named after `volumeId` (for `qemu-img compare` later). */
export function referenceCopy(path: string, volumeId: string): string {
  const reference = join('/tmp', `ferry-ref-${volumeId}.qcow2`);
  execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'qcow2', path, reference]);
  return reference;
}
