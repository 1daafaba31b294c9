// Format sniffing against real images made by qemu-img and tar, so the magic numbers are checked against what the
// tools actually write rather than against our own reading of the specs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FormatSniffer,
  formatMatches,
  qemuImgFormat,
  sniffFormat,
  type ImageFormat,
  type SniffedFormat,
} from '../../core/image-format';

const MiB = 1024 * 1024;
let dir: string;
const images = new Map<string, Uint8Array>();

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function image(name: string): Uint8Array {
  const bytes = images.get(name);
  if (!bytes) throw new Error(`no test image ${name}`);
  return bytes;
}

/** The format qemu-img itself probes a file as. */
function qemuProbe(file: string): string {
  return (JSON.parse(run('qemu-img', ['info', '--output=json', file])) as { format: string }).format;
}

function sniffWhole(bytes: Uint8Array): SniffedFormat {
  return sniffFormat(bytes, bytes.subarray(Math.max(0, bytes.length - 512)), bytes.length);
}

/** A small seeded generator, so a failing chunking can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Feeds `bytes` in random-sized chunks (empty ones too, and a run of tiny ones at the end to shift the tail). */
function sniffStreamed(bytes: Uint8Array, seed: number, maxChunk = 5000): { format: SniffedFormat; seen: number } {
  const sniffer = new FormatSniffer();
  const next = random(seed);
  const tinyFrom = Math.max(0, bytes.length - 1000);
  let offset = 0;
  while (offset < bytes.length) {
    const size = offset >= tinyFrom ? Math.floor(next() * 8) : Math.floor(next() * maxChunk);
    sniffer.update(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return { format: sniffer.result(), seen: sniffer.bytesSeen };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-image-format-'));

  // A raw disk with recognisable data in it: a boot-sector signature, text in the first sector, and data further
  // on, so the converted images below carry real content rather than being all zeros.
  const raw = new Uint8Array(8 * MiB);
  raw.set(new TextEncoder().encode('Ferry test disk: this sector starts with text, like a bootloader message.\n'));
  raw.set([0x55, 0xaa], 510);
  for (let i = 0; i < 64 * 1024; i++) raw[MiB + i] = (i * 31 + 7) & 0xff;
  raw.set(new TextEncoder().encode('end of the disk'), raw.length - 4096);
  writeFileSync(join(dir, 'disk.raw'), raw);

  run('qemu-img', ['create', '-q', '-f', 'raw', 'zeros.raw', '4M']);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', 'disk.raw', 'disk.qcow2']);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic', 'disk.raw', 'dynamic.vhd']);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', 'disk.raw', 'fixed-chs.vhd']);
  run('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vpc',
    '-o',
    'subformat=fixed,force_size=on',
    'disk.raw',
    'fixed.vhd',
  ]);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', 'disk.raw', 'sparse.vmdk']);
  run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', 'disk.raw', 'stream.vmdk']);

  // An OVA: a tar whose first member is the OVF descriptor, then the disk it names.
  writeFileSync(
    join(dir, 'disk.ovf'),
    `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References><File ovf:id="file1" ovf:href="stream.vmdk"/></References>
  <DiskSection><Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="8388608"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="ferry-test"><Info>A test machine</Info></VirtualSystem>
</Envelope>
`,
  );
  run('tar', ['--format=ustar', '-cf', 'appliance.ova', 'disk.ovf', 'stream.vmdk']);
  run('tar', ['--format=pax', '-cf', 'appliance-pax.ova', 'disk.ovf', 'stream.vmdk']);
  run('tar', ['--format=ustar', '-cf', 'disk-first.ova', 'stream.vmdk', 'disk.ovf']);

  // genisoimage/xorriso are not assumed; a minimal ISO9660 image is 16 empty sectors, a primary volume descriptor
  // (type 1, 'CD001', version 1) and the set terminator (type 255).
  const iso = new Uint8Array(36 * 1024);
  iso.set([0x01, ...new TextEncoder().encode('CD001'), 0x01], 32768);
  iso.set([0xff, ...new TextEncoder().encode('CD001'), 0x01], 34816);
  writeFileSync(join(dir, 'minimal.iso'), iso);

  writeFileSync(
    join(dir, 'error.html'),
    '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1>' +
      '<p>The requested URL /images/disk.qcow2 was not found on this server.</p></body></html>\n',
  );
  writeFileSync(
    join(dir, 'lower.html'),
    '\ufeff\n  <!doctype html><html><body>Fehler: Zugriff verweigert</body></html>',
  );
  writeFileSync(join(dir, 'error.json'), JSON.stringify({ error: { code: 403, message: 'Access Denied' } }));
  writeFileSync(join(dir, 'array.json'), '[{"id": 1}, {"id": 2}]');
  writeFileSync(join(dir, 'notes.txt'), 'Prüfsumme: d41d8cd9 — übertragen\n'.repeat(200));
  writeFileSync(join(dir, 'empty'), '');

  for (const name of [
    'disk.raw',
    'zeros.raw',
    'disk.qcow2',
    'dynamic.vhd',
    'fixed-chs.vhd',
    'fixed.vhd',
    'sparse.vmdk',
    'stream.vmdk',
    'disk.ovf',
    'appliance.ova',
    'appliance-pax.ova',
    'disk-first.ova',
    'minimal.iso',
    'error.html',
    'lower.html',
    'error.json',
    'array.json',
    'notes.txt',
    'empty',
  ]) {
    images.set(name, new Uint8Array(readFileSync(join(dir, name))));
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sniffing the format of real images', () => {
  it.each<[string, SniffedFormat]>([
    ['disk.qcow2', 'QCOW2'],
    ['disk.raw', 'RAW'],
    ['zeros.raw', 'RAW'],
    ['dynamic.vhd', 'VHD'],
    ['fixed-chs.vhd', 'VHD'],
    ['fixed.vhd', 'VHD'],
    ['sparse.vmdk', 'VMDK'],
    ['stream.vmdk', 'VMDK'],
    ['appliance.ova', 'OVA'],
    ['appliance-pax.ova', 'OVA'],
    ['disk-first.ova', 'RAW'],
    ['minimal.iso', 'ISO'],
    ['disk.ovf', 'TEXT'],
    ['error.html', 'TEXT'],
    ['lower.html', 'TEXT'],
    ['error.json', 'TEXT'],
    ['array.json', 'TEXT'],
    ['notes.txt', 'TEXT'],
    ['empty', 'EMPTY'],
  ])('%s is %s, whole and streamed in random chunks', (name, expected) => {
    const bytes = image(name);
    expect(sniffWhole(bytes)).toBe(expected);
    for (const seed of [1, 2, 3]) {
      expect(sniffStreamed(bytes, seed)).toEqual({ format: expected, seen: bytes.length });
    }
  });

  it('reads a VMDK text descriptor as VMDK, not TEXT', () => {
    const descriptor = new TextEncoder().encode(
      '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n' +
        'RW 16384 FLAT "disk-flat.vmdk" 0\n',
    );
    expect(sniffWhole(descriptor)).toBe('VMDK');
  });

  it('agrees with qemu-img where qemu-img can tell, and finds the fixed VHDs it cannot', () => {
    expect(qemuProbe('disk.qcow2')).toBe('qcow2');
    expect(qemuProbe('dynamic.vhd')).toBe('vpc');
    expect(qemuProbe('sparse.vmdk')).toBe('vmdk');
    expect(qemuProbe('stream.vmdk')).toBe('vmdk');
    // qemu probes VHD only by the footer copy at offset 0, which a fixed VHD lacks.
    expect(qemuProbe('fixed.vhd')).toBe('raw');
    expect(qemuProbe('fixed-chs.vhd')).toBe('raw');
  });

  it('lays out fixed VHDs as the raw data then a 512-byte footer, so only the tail tells', () => {
    const raw = image('disk.raw');
    const fixed = image('fixed.vhd');
    // force_size keeps the exact size; without it qemu rounds up to a CHS geometry.
    expect(fixed.length).toBe(raw.length + 512);
    expect(image('fixed-chs.vhd').length).toBeGreaterThan(raw.length + 512);
    // Buffer.compare rather than toEqual: a deep equal over 8 MiB takes a minute.
    expect(Buffer.compare(fixed.subarray(0, raw.length), raw)).toBe(0);
    expect(sniffFormat(fixed.subarray(0, 64 * 1024), new Uint8Array(512), fixed.length)).toBe('RAW');
    // The dynamic one starts with a copy of the footer.
    expect(new TextDecoder().decode(image('dynamic.vhd').subarray(0, 8))).toBe('conectix');
  });

  it('streams a several-MiB fixed VHD in large chunks, keeping the footer from the very end', () => {
    const fixed = image('fixed.vhd');
    expect(fixed.length).toBeGreaterThan(4 * MiB);
    for (const seed of [10, 11, 12]) {
      expect(sniffStreamed(fixed, seed, 300_000)).toEqual({ format: 'VHD', seen: fixed.length });
    }
    // A chunk that ends exactly on the footer's start, and one that splits it.
    for (const cut of [fixed.length - 512, fixed.length - 300]) {
      const sniffer = new FormatSniffer();
      sniffer.update(fixed.subarray(0, cut));
      sniffer.update(fixed.subarray(cut));
      expect(sniffer.result()).toBe('VHD');
    }
  });

  it('does not call content TEXT just because it has no NULs', () => {
    const noise = new Uint8Array(64 * 1024);
    const next = random(7);
    for (let i = 0; i < noise.length; i++) noise[i] = 1 + Math.floor(next() * 255);
    expect(sniffWhole(noise)).toBe('RAW');
    // A boot sector may start with '{' or '['; with NULs after it, it is still a disk.
    expect(sniffWhole(new Uint8Array([0x7b, 0x00, 0x01, 0x02]))).toBe('RAW');
  });

  it('needs the whole ISO volume descriptor identifier in the head', () => {
    expect(sniffWhole(image('minimal.iso').subarray(0, 32772))).toBe('RAW');
  });

  it('reports nothing for a sniffer that was never fed', () => {
    const sniffer = new FormatSniffer();
    expect(sniffer.result()).toBe('EMPTY');
    expect(sniffer.bytesSeen).toBe(0);
  });
});

describe('matching a claimed format', () => {
  it.each<[ImageFormat, SniffedFormat, boolean]>([
    ['QCOW2', 'QCOW2', true],
    ['QCOW2', 'TEXT', false],
    ['QCOW2', 'RAW', false],
    ['QCOW2', 'EMPTY', false],
    ['RAW', 'RAW', true],
    ['RAW', 'ISO', true],
    ['RAW', 'TEXT', false],
    ['RAW', 'EMPTY', false],
    ['RAW', 'QCOW2', false],
    ['RAW', 'VMDK', false],
    ['RAW', 'VHD', false],
    ['RAW', 'OVA', false],
    ['VHD', 'VHD', true],
    ['VHD', 'RAW', false],
    ['VMDK', 'VMDK', true],
    ['VMDK', 'OVA', false],
    ['OVA', 'OVA', true],
    ['OVA', 'VMDK', false],
    ['OVA', 'TEXT', false],
    ['ISO', 'ISO', true],
    ['ISO', 'RAW', false],
  ])('a %s claim for %s content is %s', (claimed, sniffed, expected) => {
    expect(formatMatches(claimed, sniffed)).toBe(expected);
  });

  it('refuses an HTML error page claimed as QCOW2', () => {
    expect(formatMatches('QCOW2', sniffWhole(image('error.html')))).toBe(false);
  });
});

describe('qemu-img format names', () => {
  it.each<[ImageFormat, string | undefined, string]>([
    ['QCOW2', 'qcow2', 'disk.qcow2'],
    ['VHD', 'vpc', 'fixed.vhd'],
    ['VMDK', 'vmdk', 'stream.vmdk'],
    ['RAW', 'raw', 'disk.raw'],
    ['OVA', undefined, 'appliance.ova'],
    ['ISO', undefined, 'minimal.iso'],
  ])('%s is -f %s, which qemu-img opens', (format, name, file) => {
    expect(qemuImgFormat(format)).toBe(name);
    if (name)
      expect(JSON.parse(run('qemu-img', ['info', '--output=json', '-f', name, file]))).toHaveProperty('format', name);
  });
});
