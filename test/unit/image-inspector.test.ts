// The image inspector and the host-side check against real images made by qemu-img (and attacks crafted from them),
// so every rule is checked against what the tools write and what qemu-img actually follows. Pure unit tests: they run
// qemu-img, od and stat locally, never the lab.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageFormat } from '../../core/image-format';
import {
  ImageInspector,
  ImageRefusedError,
  inspectImage,
  type Inspection,
  type RefusalRule,
} from '../../core/image-inspector';
import type { Argv } from '../../plugins/hypervisors/contract';
import {
  checkImageInfo,
  checkImageOnHost,
  imageInfoArgv,
  imageSampleArgv,
} from '../../plugins/hypervisors/image-check';

const KiB = 1024;
const MiB = 1024 * KiB;
let dir: string;

const path = (name: string) => join(dir, name);
const bytes = (name: string) => new Uint8Array(readFileSync(path(name)));

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What qemu-img itself says, asked the safe way. */
function qemuInfo(format: ImageFormat, name: string): { stdout: string; virtualSize: number } {
  const [command, ...args] = imageInfoArgv(format, path(name));
  const stdout = run(command!, args);
  return { stdout, virtualSize: (JSON.parse(stdout) as { 'virtual-size': number })['virtual-size'] };
}

/** Chunk patterns: the whole file at once, 7 bytes at a time, 64 KiB at a time, and a cycle of odd sizes. */
const FEEDS: Record<string, number[]> = {
  whole: [Number.MAX_SAFE_INTEGER],
  '7-byte': [7],
  '64KiB': [64 * KiB],
  mixed: [7, 64 * KiB, 1, 4093, 511, 100_003],
};

function feed(claimed: ImageFormat, data: Uint8Array, pattern: number[]): Inspection {
  const inspector = new ImageInspector(claimed);
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = pattern[i % pattern.length]!;
    inspector.update(data.subarray(offset, offset + size));
    offset += size;
  }
  return inspector.finish(data.length);
}

/** Inspects a file every way it can be streamed; all must agree, and the answer is returned. */
function inspectEveryWay(claimed: ImageFormat, name: string): Inspection {
  const data = bytes(name);
  const whole = inspectImage(claimed, data);
  for (const [feedName, pattern] of Object.entries(FEEDS)) {
    expect({ feedName, result: feed(claimed, data, pattern) }).toEqual({ feedName, result: whole });
  }
  return whole;
}

const rulesOf = (refusals: readonly { rule: RefusalRule }[]) => [...new Set(refusals.map((r) => r.rule))].sort();

// ---- crafting attacks from real images ----

function u64le(data: Uint8Array, offset: number): number {
  return Number(new DataView(data.buffer, data.byteOffset).getBigUint64(offset, true));
}

/** Rewrites a sparse VMDK's embedded descriptor (where its header says it is), keeping the file's layout. */
function withVmdkDescriptor(data: Uint8Array, edit: (text: string) => string): Uint8Array {
  const out = data.slice();
  const start = u64le(out, 28) * 512;
  const size = u64le(out, 36) * 512;
  const region = out.subarray(start, start + size);
  const end = region.indexOf(0);
  const text = edit(new TextDecoder().decode(region.subarray(0, end === -1 ? size : end)));
  const encoded = new TextEncoder().encode(text);
  if (encoded.length >= size) throw new Error('the descriptor does not fit');
  region.fill(0);
  region.set(encoded);
  return out;
}

/** Sets a VHD footer's disk type and fixes its checksum (the one's complement of its bytes' sum). */
function setVhdType(data: Uint8Array, footerOffset: number, type: number): void {
  const footer = data.subarray(footerOffset, footerOffset + 512);
  const view = new DataView(footer.buffer, footer.byteOffset, 512);
  view.setUint32(60, type);
  view.setUint32(64, 0);
  const sum = footer.reduce((a, b) => a + b, 0);
  view.setUint32(64, ~sum >>> 0);
}

/**
 * A streamOptimized VMDK as VMware writes it: the header's grain directory offset is "at end", and the real header
 * follows the data as a footer (a footer marker, the footer, an end-of-stream marker).
 */
function withVmdkFooter(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1536);
  out.set(data);
  new DataView(out.buffer).setBigUint64(56, 0xffffffffffffffffn, true);
  const marker = new DataView(out.buffer, data.length, 512);
  marker.setBigUint64(0, 1n, true); // the footer's length in sectors
  marker.setUint32(12, 3, true); // MARKER_FOOTER
  out.set(data.subarray(0, 512), data.length + 512);
  return out; // the last sector stays zero: the end-of-stream marker
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-image-inspector-'));
  const raw = new Uint8Array(2 * MiB);
  raw.set(new TextEncoder().encode('Ferry inspector test disk\n'));
  raw.set([0x55, 0xaa], 510);
  for (let i = 0; i < 64 * KiB; i++) raw[MiB + i] = (i * 31 + 7) & 0xff;
  writeFileSync(path('disk.raw'), raw);

  const convert = (format: string, out: string, ...options: string[]) =>
    run('qemu-img', ['convert', '-f', 'raw', '-O', format, ...options, 'disk.raw', out]);
  convert('qcow2', 'clean.qcow2');
  convert('qcow2', 'big-cluster.qcow2', '-o', 'cluster_size=2M');
  convert('qcow2', 'v2.qcow2', '-o', 'compat=0.10');
  convert('vmdk', 'sparse.vmdk');
  convert('vmdk', 'stream.vmdk', '-o', 'subformat=streamOptimized');
  convert('vpc', 'dynamic.vhd', '-o', 'subformat=dynamic');
  convert('vpc', 'fixed.vhd', '-o', 'subformat=fixed,force_size=on');

  // The issue's own attacks.
  run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', 'backing.qcow2']);
  run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', `data_file=${path('datafile.data')}`, 'datafile.qcow2', '1M']);
  writeFileSync(path('truncated.qcow2'), bytes('clean.qcow2').subarray(0, KiB));
  run('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '--object',
    'secret,id=sec0,data=password',
    '-o',
    'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10',
    'encrypted.qcow2',
    '1M',
  ]);

  run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'flat.vmdk', '1M']);
  run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', 'twogb.vmdk', '1M']);
  writeFileSync(
    path('passwd.vmdk'),
    '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n' +
      '# Extent description\nRW 2048 FLAT "/etc/passwd" 0\n',
  );
  const sparse = bytes('sparse.vmdk');
  writeFileSync(
    path('parent.vmdk'),
    withVmdkDescriptor(sparse, (t) => t.replace('parentCID=ffffffff\n', '$&parentFileNameHint="/etc/passwd"\n')),
  );
  writeFileSync(
    path('extra-extent.vmdk'),
    withVmdkDescriptor(sparse, (t) => t.replace(/(RW \d+ SPARSE "[^"]*"\n)/, '$1RW 2048 FLAT "/etc/passwd" 0\n')),
  );
  // Capacity 0 makes qemu open the embedded descriptor as a descriptor file, extents and all.
  const redirect = withVmdkDescriptor(sparse, (t) =>
    t.replace('monolithicSparse', 'monolithicFlat').replace(/RW \d+ SPARSE "[^"]*"/, 'RW 2048 FLAT "/etc/passwd" 0'),
  );
  redirect.fill(0, 12, 20);
  writeFileSync(path('capacity0.vmdk'), redirect);
  writeFileSync(path('truncated.vmdk'), sparse.subarray(0, KiB));
  const footer = withVmdkFooter(bytes('stream.vmdk'));
  writeFileSync(path('footer.vmdk'), footer);
  writeFileSync(path('footer-cut.vmdk'), footer.subarray(0, footer.length - 1536));

  // qemu-img does not create differencing VHDs (its vpc driver has no backing files); craft one if it refuses.
  try {
    run('qemu-img', ['create', '-q', '-f', 'vpc', '-b', 'dynamic.vhd', '-F', 'vpc', 'differencing.vhd']);
  } catch {
    const diff = bytes('dynamic.vhd');
    setVhdType(diff, 0, 4);
    setVhdType(diff, diff.length - 512, 4);
    writeFileSync(path('differencing.vhd'), diff);
  }
  const dynamic = bytes('dynamic.vhd');
  writeFileSync(path('vhd-no-footer.vhd'), dynamic.subarray(0, dynamic.length - 512));
  writeFileSync(path('vhd-first-kib.vhd'), dynamic.subarray(0, KiB));
  const fixed = bytes('fixed.vhd');
  const shortFixed = new Uint8Array(MiB + 512);
  shortFixed.set(fixed.subarray(0, MiB));
  shortFixed.set(fixed.subarray(fixed.length - 512), MiB);
  writeFileSync(path('fixed-short.vhd'), shortFixed);

  const iso = new Uint8Array(36 * KiB);
  iso.set([0x01, ...new TextEncoder().encode('CD001'), 0x01], 32 * KiB);
  iso.set([0xff, ...new TextEncoder().encode('CD001'), 0x01], 34 * KiB);
  writeFileSync(path('minimal.iso'), iso);
  // A qcow2 header in an ISO's system area: qemu probing the file would read it as qcow2.
  const stashed = iso.slice();
  stashed.set(bytes('clean.qcow2').subarray(0, 512));
  writeFileSync(path('qcow2-in.iso'), stashed);

  writeFileSync(path('disk.ovf'), '<?xml version="1.0"?>\n<Envelope><References/></Envelope>\n');
  run('tar', ['--format=ustar', '-cf', 'appliance.ova', 'disk.ovf', 'stream.vmdk']);
  run('tar', ['--format=pax', '-cf', 'appliance-pax.ova', 'disk.ovf', 'stream.vmdk']);
  run('tar', ['--format=ustar', '-cf', 'evil.ova', 'disk.ovf', 'passwd.vmdk']);
  const ova = bytes('appliance.ova');
  writeFileSync(path('cut.ova'), ova.subarray(0, 3 * KiB));
  mkdirSync(path('sub'));
  writeFileSync(path('sub/disk.ovf'), '<?xml version="1.0"?>\n<Envelope/>\n');
  writeFileSync(path('outside.txt'), 'not part of the appliance\n');
  execFileSync('tar', ['--format=ustar', '-P', '-cf', '../dotdot.ova', 'disk.ovf', '../outside.txt'], {
    cwd: path('sub'),
  });

  run('qemu-img', ['create', '-q', '-f', 'qed', '-F', 'raw', '-b', '/etc/passwd', 'backing.qed', '1M']);
  writeFileSync(path('error.html'), '<!DOCTYPE html>\n<html><body><h1>404 Not Found</h1></body></html>\n');

  // A FIFO nobody writes: whatever opens it for reading hangs, so a command that returns did not open it.
  run('mkfifo', ['trap.fifo']);
  run('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-u',
    '-F',
    'raw',
    '-b',
    path('trap.fifo'),
    'fifo-backing.qcow2',
    '1M',
  ]);
  writeFileSync(
    path('fifo.vmdk'),
    `# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "${path('trap.fifo')}" 0\n`,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the streaming inspector on clean images', () => {
  it.each<[string, ImageFormat]>([
    ['clean.qcow2', 'QCOW2'],
    ['big-cluster.qcow2', 'QCOW2'],
    ['v2.qcow2', 'QCOW2'],
    ['sparse.vmdk', 'VMDK'],
    ['stream.vmdk', 'VMDK'],
    ['footer.vmdk', 'VMDK'],
    ['dynamic.vhd', 'VHD'],
    ['fixed.vhd', 'VHD'],
    ['disk.raw', 'RAW'],
  ])('%s passes as %s with the virtual size qemu-img reports, however it is chunked', (name, format) => {
    const result = inspectEveryWay(format, name);
    expect(result.refusals).toEqual([]);
    expect(result.virtualSize).toBe(qemuInfo(format, name).virtualSize);
  });

  it('reads the VMware-style footer the way qemu-img does (the crafted file has the disk content)', () => {
    run('qemu-img', ['compare', '-q', '-f', 'vmdk', '-F', 'raw', 'footer.vmdk', 'disk.raw']);
    expect(inspectImage('VMDK', bytes('footer.vmdk')).virtualSize).toBe(2 * MiB);
  });

  it.each<[string, ImageFormat, number | undefined]>([
    ['minimal.iso', 'ISO', 36 * KiB],
    ['minimal.iso', 'RAW', 36 * KiB],
    ['appliance.ova', 'OVA', undefined],
    ['appliance-pax.ova', 'OVA', undefined],
  ])('%s passes as %s', (name, format, virtualSize) => {
    const result = inspectEveryWay(format, name);
    expect(result.refusals).toEqual([]);
    expect(result.virtualSize).toBe(virtualSize);
  });
});

describe('the streaming inspector on attacks and damage', () => {
  it.each<[string, ImageFormat, RefusalRule[], string]>([
    ['backing.qcow2', 'QCOW2', ['qcow2-backing-file'], '"/etc/passwd"'],
    ['backing.qcow2', 'RAW', ['format-mismatch', 'qcow2-backing-file'], 'not the RAW image'],
    ['datafile.qcow2', 'QCOW2', ['qcow2-data-file'], 'datafile.data'],
    ['datafile.qcow2', 'RAW', ['format-mismatch', 'qcow2-data-file'], 'external data file'],
    ['truncated.qcow2', 'QCOW2', ['qcow2-truncated'], 'is 1024 bytes, too short for its L1 table'],
    ['encrypted.qcow2', 'QCOW2', ['qcow2-encrypted'], 'encrypted'],
    ['flat.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat'], '"flat-flat.vmdk"'],
    ['passwd.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat'], 'extent in the file "/etc/passwd"'],
    ['twogb.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat'], 'twoGbMaxExtentSparse'],
    ['parent.vmdk', 'VMDK', ['vmdk-backing-file'], 'parent disk ("/etc/passwd")'],
    ['extra-extent.vmdk', 'VMDK', ['vmdk-extent'], 'FLAT extent in "/etc/passwd"'],
    ['capacity0.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat'], 'capacity 0'],
    ['truncated.vmdk', 'VMDK', ['vmdk-truncated'], 'too short for its descriptor'],
    ['footer-cut.vmdk', 'VMDK', ['vmdk-truncated'], 'no valid footer'],
    ['differencing.vhd', 'VHD', ['vhd-differencing'], 'differencing disk'],
    ['vhd-no-footer.vhd', 'VHD', ['vhd-truncated'], 'no footer at its end'],
    ['vhd-first-kib.vhd', 'VHD', ['vhd-truncated'], 'too short for its dynamic disk header'],
    ['fixed-short.vhd', 'VHD', ['vhd-truncated'], 'too short for its 2097152-byte disk'],
    ['clean.qcow2', 'VHD', ['format-mismatch'], 'is a QCOW2 image, not the VHD image'],
    ['sparse.vmdk', 'RAW', ['format-mismatch'], 'is a VMDK image, not the RAW image'],
    ['disk.raw', 'QCOW2', ['format-mismatch'], 'no QCOW2 header'],
    ['error.html', 'QCOW2', ['format-mismatch'], 'text (an error page?)'],
    ['disk.raw', 'ISO', ['format-mismatch'], 'CD001'],
    ['qcow2-in.iso', 'ISO', ['format-mismatch', 'qcow2-truncated'], 'is a QCOW2 image, not the ISO image'],
    ['disk.raw', 'OVA', ['format-mismatch'], 'not an OVA'],
    ['backing.qed', 'RAW', ['format-mismatch'], 'a QED image, which Ferry does not accept as RAW'],
    ['evil.ova', 'OVA', ['vmdk-extent', 'vmdk-subformat'], 'OVA member "passwd.vmdk": The VMDK descriptor'],
    ['dotdot.ova', 'OVA', ['ova-member'], '"../outside.txt"'],
    ['cut.ova', 'OVA', ['ova-truncated'], 'ends inside "stream.vmdk"'],
  ])('%s claimed as %s is refused by %j', (name, format, rules, mention) => {
    const result = inspectEveryWay(format, name);
    expect(rulesOf(result.refusals)).toEqual(rules);
    expect(result.refusals.map((r) => r.message).join('\n')).toContain(mention);
  });

  it('refuses what qemu-img really follows: these crafted files do make it open /etc/passwd', () => {
    const extents = (name: string) =>
      (
        JSON.parse(run('qemu-img', ['info', '--output=json', '-f', 'vmdk', name])) as {
          'format-specific': { data: { extents: { filename: string }[] } };
        }
      )['format-specific'].data.extents.map((e) => e.filename);
    expect(extents('capacity0.vmdk')).toContain('/etc/passwd');
    expect(extents('passwd.vmdk')).toContain('/etc/passwd');
    const parent = JSON.parse(qemuInfo('VMDK', 'parent.vmdk').stdout) as { 'backing-filename'?: string };
    expect(parent['backing-filename']).toBe('/etc/passwd');
  });

  it('verdict() throws an ImageRefusedError naming the rule, and returns the inspection when clean', () => {
    const refused = new ImageInspector('QCOW2');
    refused.update(bytes('backing.qcow2'));
    let error: unknown;
    try {
      refused.verdict();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ImageRefusedError);
    expect((error as ImageRefusedError).rule).toBe('qcow2-backing-file');
    expect((error as ImageRefusedError).message).toMatch(/^The qcow2 image has a backing file \("\/etc\/passwd"\)/);

    const clean = new ImageInspector('QCOW2');
    clean.update(bytes('clean.qcow2'));
    expect(clean.verdict().virtualSize).toBe(2 * MiB);
  });

  it('refuses to judge an image it was not fed whole', () => {
    const inspector = new ImageInspector('RAW');
    inspector.update(bytes('disk.raw').subarray(0, MiB));
    expect(() => inspector.finish(2 * MiB)).toThrow(/fed 1048576 bytes of an image of 2097152/);
  });

  it('judges an empty image as a mismatch, not a crash', () => {
    expect(rulesOf(inspectImage('QCOW2', new Uint8Array(0)).refusals)).toEqual(['format-mismatch']);
  });
});

describe('the host-side check', () => {
  const infoTimeoutMs = 10_000;
  const runLocally = (log: Argv[]) => async (argv: Argv) => {
    log.push(argv);
    const { stdout } = await promisify(execFile)(argv[0]!, argv.slice(1), {
      cwd: dir,
      timeout: infoTimeoutMs,
      maxBuffer: 64 * MiB,
    });
    return stdout;
  };

  it('names the format, disables the backing file and never asks for the backing chain', () => {
    const argv = imageInfoArgv('QCOW2', '/pool/v-1.qcow2');
    expect(argv.slice(0, 5)).toEqual(['qemu-img', 'info', '--output=json', '-f', 'qcow2']);
    expect(argv).not.toContain('--backing-chain');
    expect(argv).not.toContain('-U');
    expect(JSON.parse(argv.at(-1)!.replace(/^json:/, ''))).toEqual({
      driver: 'qcow2',
      backing: null,
      file: { driver: 'file', filename: '/pool/v-1.qcow2' },
    });
    expect(imageInfoArgv('VHD', '/p/x', { forceShare: true })).toContain('-U');
    expect(imageInfoArgv('VHD', '/p/x')).toContain('vpc');
    expect(() => imageInfoArgv('ISO', '/p/x.iso')).toThrow(/not opened by qemu-img/);
  });

  it('does not open the backing file: a FIFO backing hangs --backing-chain but not this argv', () => {
    expect(() =>
      execFileSync('qemu-img', ['info', '--output=json', '--backing-chain', '-f', 'qcow2', 'fifo-backing.qcow2'], {
        cwd: dir,
        timeout: 2000,
        stdio: 'ignore',
      }),
    ).toThrow(/ETIMEDOUT|SIGTERM/);
    const [command, ...args] = imageInfoArgv('QCOW2', path('fifo-backing.qcow2'));
    const stdout = execFileSync(command!, args, { timeout: infoTimeoutMs, encoding: 'utf8' });
    expect(rulesOf(checkImageInfo('QCOW2', path('fifo-backing.qcow2'), stdout).refusals)).toEqual([
      'qcow2-backing-file',
    ]);
  });

  it.each<[string, ImageFormat, RefusalRule[]]>([
    ['clean.qcow2', 'QCOW2', []],
    ['sparse.vmdk', 'VMDK', []],
    ['stream.vmdk', 'VMDK', []],
    ['dynamic.vhd', 'VHD', []],
    ['fixed.vhd', 'VHD', []],
    ['disk.raw', 'RAW', []],
    ['backing.qcow2', 'QCOW2', ['qcow2-backing-file']],
    ['datafile.qcow2', 'QCOW2', ['qcow2-data-file']],
    ['encrypted.qcow2', 'QCOW2', ['qcow2-encrypted']],
    ['flat.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['passwd.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['parent.vmdk', 'VMDK', ['vmdk-backing-file']],
  ])("parses qemu-img info's real JSON for %s (as %s): %j", (name, format, rules) => {
    const { stdout, virtualSize } = qemuInfo(format, name);
    const check = checkImageInfo(format, path(name), stdout);
    expect(rulesOf(check.refusals)).toEqual(rules);
    expect(check.virtualSize).toBe(virtualSize);
    if (rules.includes('qcow2-data-file')) expect(check.refusals[0]!.message).toContain(path('datafile.data'));
    if (name === 'passwd.vmdk') expect(check.refusals.map((r) => r.message).join()).toContain('"/etc/passwd"');
  });

  it('refuses a format other than the one named', () => {
    const { stdout } = qemuInfo('QCOW2', 'clean.qcow2');
    const check = checkImageInfo('VHD', path('clean.qcow2'), stdout);
    expect(rulesOf(check.refusals)).toEqual(['format-mismatch']);
    expect(check.refusals[0]!.message).toContain('"qcow2", not the vpc');
  });

  it('samples a large file by its head and its tail only', () => {
    const size = bytes('fixed.vhd').length;
    expect(size).toBeGreaterThan(MiB + 2048);
    const argvs = imageSampleArgv(path('fixed.vhd'), size);
    // The first MiB in four pieces (each one's od text fits the SSH executor's 1 MiB of output), then the tail.
    expect(argvs).toHaveLength(5);
    for (const [i, argv] of argvs.slice(0, 4).entries()) {
      expect(argv).toEqual(expect.arrayContaining(['-N', String(256 * 1024)]));
      if (i > 0) expect(argv).toEqual(expect.arrayContaining(['-j', String(i * 256 * 1024)]));
    }
    expect(argvs[4]).toEqual(expect.arrayContaining(['-j', String(size - 2048), '-N', '2048']));
    const small = bytes('clean.qcow2').length;
    expect(imageSampleArgv(path('clean.qcow2'), small)).toHaveLength(Math.ceil(small / (256 * 1024)));
  });

  it.each<[string, ImageFormat]>([
    ['clean.qcow2', 'QCOW2'],
    ['big-cluster.qcow2', 'QCOW2'],
    ['sparse.vmdk', 'VMDK'],
    ['footer.vmdk', 'VMDK'],
    ['dynamic.vhd', 'VHD'],
    ['fixed.vhd', 'VHD'],
    ['disk.raw', 'RAW'],
  ])('passes %s as %s on a "host", then asks qemu-img', async (name, format) => {
    const log: Argv[] = [];
    const check = await checkImageOnHost(runLocally(log), format, path(name));
    expect(check.refusals).toEqual([]);
    expect(check.virtualSize).toBe(qemuInfo(format, name).virtualSize);
    expect(log.map((argv) => argv[0])).toEqual(expect.arrayContaining(['stat', 'od', 'qemu-img']));
  });

  it.each<[string, ImageFormat, RefusalRule[]]>([
    ['backing.qcow2', 'QCOW2', ['qcow2-backing-file']],
    ['fifo-backing.qcow2', 'QCOW2', ['qcow2-backing-file']],
    ['datafile.qcow2', 'QCOW2', ['qcow2-data-file']],
    ['truncated.qcow2', 'QCOW2', ['qcow2-truncated']],
    ['flat.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['passwd.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['fifo.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['extra-extent.vmdk', 'VMDK', ['vmdk-extent']],
    ['capacity0.vmdk', 'VMDK', ['vmdk-extent', 'vmdk-subformat']],
    ['parent.vmdk', 'VMDK', ['vmdk-backing-file']],
    ['differencing.vhd', 'VHD', ['vhd-differencing']],
    ['fixed-short.vhd', 'VHD', ['vhd-truncated']],
    ['clean.qcow2', 'VHD', ['format-mismatch']],
    ['backing.qcow2', 'RAW', ['format-mismatch', 'qcow2-backing-file']],
  ])('refuses %s as %s on a "host" before qemu-img ever opens it: %j', async (name, format, rules) => {
    const log: Argv[] = [];
    const check = await checkImageOnHost(runLocally(log), format, path(name));
    expect(rulesOf(check.refusals)).toEqual(rules);
    expect(log.map((argv) => argv[0])).not.toContain('qemu-img');
  });
});
