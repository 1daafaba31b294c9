// What a disk image really is, judged from its bytes as they stream past, so Ferry can refuse an upload whose
// claimed format is a lie (an HTML error page "claimed" as QCOW2, or a qcow2 with a backing file claimed as RAW,
// which qemu would later open as qcow2). Pure: no I/O and no node: imports, so workflow code can use it too.

export type ImageFormat = 'QCOW2' | 'VHD' | 'VMDK' | 'OVA' | 'RAW' | 'ISO';
/** What the content is: a disk format, 'TEXT' for something plainly not a disk (HTML, JSON, an error page), or 'EMPTY'. */
export type SniffedFormat = ImageFormat | 'TEXT' | 'EMPTY';

/** How much of the start is looked at: enough for the ISO9660 volume descriptor at 32 KiB and an OVA's first headers. */
export const HEAD_SIZE = 64 * 1024;
/** A VHD footer is the last 512 bytes; a fixed VHD has it only there. */
export const TAIL_SIZE = 512;

/** Collects what sniffing needs (the first 64 KiB and the last 512 bytes) from a stream of chunks, keeping no more. */
export class FormatSniffer {
  private readonly head = new Uint8Array(HEAD_SIZE);
  private headLength = 0;
  private readonly tail = new Uint8Array(TAIL_SIZE);
  private tailLength = 0;
  private seen = 0;

  get bytesSeen(): number {
    return this.seen;
  }

  update(chunk: Uint8Array): void {
    this.seen += chunk.length;
    if (this.headLength < HEAD_SIZE) {
      const take = chunk.subarray(0, HEAD_SIZE - this.headLength);
      this.head.set(take, this.headLength);
      this.headLength += take.length;
    }
    if (chunk.length >= TAIL_SIZE) {
      this.tail.set(chunk.subarray(chunk.length - TAIL_SIZE));
      this.tailLength = TAIL_SIZE;
    } else {
      // Keep the newest bytes of the old tail that still fit in front of this short chunk.
      const keep = Math.min(this.tailLength, TAIL_SIZE - chunk.length);
      this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
      this.tail.set(chunk, keep);
      this.tailLength = keep + chunk.length;
    }
  }

  /** Call after the last chunk. */
  result(): SniffedFormat {
    return sniffFormat(this.head.subarray(0, this.headLength), this.tail.subarray(0, this.tailLength), this.seen);
  }
}

/**
 * Judges content from its first bytes (up to 64 KiB are looked at) and its last bytes (the last 512 are looked at).
 * For a small file `head` and `tail` may be the same bytes; `totalSize` is the whole content's length.
 */
export function sniffFormat(head: Uint8Array, tail: Uint8Array, totalSize: number): SniffedFormat {
  if (totalSize === 0 || head.length === 0) return 'EMPTY';
  // Look at no more than the sniffer keeps, so a whole file and the same file streamed get the same answer.
  const start = head.subarray(0, HEAD_SIZE);
  const footer =
    totalSize >= TAIL_SIZE && tail.length >= TAIL_SIZE ? tail.subarray(tail.length - TAIL_SIZE) : undefined;

  if (startsWith(start, 0, QCOW2_MAGIC)) return 'QCOW2';
  if (startsWith(start, 0, VMDK_SPARSE_MAGIC) || startsWith(start, 0, VMDK_DESCRIPTOR)) return 'VMDK';
  // A fixed VHD is raw data (anything at all) plus the footer, so the tail decides before the RAW fallback; a
  // dynamic VHD also carries a copy of the footer at offset 0.
  if ((footer && startsWith(footer, 0, VHD_COOKIE)) || startsWith(start, 0, VHD_COOKIE)) return 'VHD';
  if (startsWith(start, ISO_MAGIC_OFFSET, ISO_MAGIC)) return 'ISO';
  if (firstTarMemberName(start)?.toLowerCase().endsWith('.ovf')) return 'OVA';
  if (looksLikeText(start)) return 'TEXT';
  return 'RAW';
}

/**
 * True when a claimed format matches what was sniffed. RAW accepts plain binary content (and an ISO9660 image,
 * which is plain data too) but not TEXT/EMPTY, and not a structured format: qemu would read a qcow2, VMDK or VHD
 * "raw" image as that format's metadata (a qcow2 backing file, a VMDK extent path), which is the lie that matters.
 * VMDK and OVA are distinct.
 */
export function formatMatches(claimed: ImageFormat, sniffed: SniffedFormat): boolean {
  if (claimed === 'RAW') return sniffed === 'RAW' || sniffed === 'ISO';
  return claimed === sniffed;
}

/**
 * Maps Ferry/CloudStack names to qemu-img format names for `-f`: QCOW2→qcow2, VHD→vpc, VMDK→vmdk, RAW→raw; OVA and ISO
 * have none (undefined).
 */
export function qemuImgFormat(format: ImageFormat): string | undefined {
  switch (format) {
    case 'QCOW2':
      return 'qcow2';
    case 'VHD':
      return 'vpc';
    case 'VMDK':
      return 'vmdk';
    case 'RAW':
      return 'raw';
    case 'OVA':
    case 'ISO':
      return undefined;
  }
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb]; // 'QFI\xfb'
const VMDK_SPARSE_MAGIC = ascii('KDMV');
const VMDK_DESCRIPTOR = ascii('# Disk DescriptorFile');
const VHD_COOKIE = ascii('conectix');
const ISO_MAGIC_OFFSET = 0x8001; // the standard identifier of the first volume descriptor, at sector 16
const ISO_MAGIC = ascii('CD001');
const USTAR_MAGIC = ascii('ustar'); // POSIX 'ustar\0' and GNU 'ustar  ' both start so
// Markup that is never the start of a disk; matched case-insensitively, since HTML is often '<!doctype html>'.
const MARKUP = ['<!doctype', '<html', '<?xml'].map(ascii);

function startsWith(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

function startsWithIgnoringCase(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  // Setting bit 0x20 folds ASCII letters to lower case; the markup's other characters already have it set.
  return magic.every((b, i) => ((bytes[offset + i] ?? 0) | 0x20) === (b | 0x20));
}

/** Bytes as a string, one character per byte: names are only compared against ASCII, so Latin-1 is enough. */
function latin1(bytes: Uint8Array): string {
  let text = '';
  // In slices, so a large pax header cannot overflow the argument list.
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return text;
}

/** Bytes up to the first NUL. */
function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return latin1(bytes.subarray(0, end === -1 ? bytes.length : end));
}

/** A tar numeric field (octal ASCII, ended by NUL or space); undefined for GNU base-256 or garbage. */
function tarNumber(field: Uint8Array): number | undefined {
  const text = cString(field).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/** A ustar header with the magic and a right checksum (the sum of its bytes, counting the checksum field as spaces). */
function isTarHeader(header: Uint8Array): boolean {
  if (header.length < 512 || !startsWith(header, 257, USTAR_MAGIC)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return tarNumber(header.subarray(148, 156)) === sum;
}

/** The `path=` record of a pax extended header ("<length> path=<name>\n"), if it has one. */
function paxPath(data: Uint8Array): string | undefined {
  return /(?:^|\n)\d+ path=([^\n]*)\n/.exec(latin1(data))?.[1];
}

/**
 * The name of a tar's first real member. GNU tar in pax format writes an extended header first (named like
 * './PaxHeaders/disk.ovf'), and GNU format a '././@LongLink' for long names; both carry the next member's name.
 */
function firstTarMemberName(head: Uint8Array): string | undefined {
  let offset = 0;
  let name: string | undefined;
  for (let records = 0; records < 4; records++) {
    const header = head.subarray(offset, offset + 512);
    if (!isTarHeader(header)) return undefined;
    const type = String.fromCharCode(header[156]!);
    if (type !== 'x' && type !== 'g' && type !== 'L') {
      const prefix = cString(header.subarray(345, 500));
      return name ?? (prefix ? `${prefix}/` : '') + cString(header.subarray(0, 100));
    }
    const size = tarNumber(header.subarray(124, 136));
    if (size === undefined) return undefined;
    const data = head.subarray(offset + 512, offset + 512 + size);
    if (data.length < size) return undefined;
    if (type === 'x') name = paxPath(data) ?? name;
    if (type === 'L') name = cString(data);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** Length of a well-formed UTF-8 multibyte sequence at `i`, or 0. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  const length =
    lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || i + length > bytes.length) return 0;
  for (let k = 1; k < length; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return length;
}

/**
 * Plainly not a disk: markup at the start, or no NUL byte and at least 95% printable (ASCII or UTF-8). A disk image,
 * even a mostly empty raw one, has NULs in its first 64 KiB. JSON's '{' or '[' alone counts only without NULs,
 * since a boot sector can start with either byte.
 */
function looksLikeText(head: Uint8Array): boolean {
  let start = startsWith(head, 0, [0xef, 0xbb, 0xbf]) ? 3 : 0; // a UTF-8 byte order mark
  while (start < head.length && [0x09, 0x0a, 0x0d, 0x20].includes(head[start]!)) start++;
  if (MARKUP.some((m) => startsWithIgnoringCase(head, start, m))) return true;
  if (head.includes(0)) return false;
  if (head[start] === 0x7b || head[start] === 0x5b) return true; // '{' or '['
  let printable = 0;
  for (let i = 0; i < head.length;) {
    const b = head[i]!;
    if (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e)) {
      printable++;
      i++;
      continue;
    }
    const length = utf8SequenceLength(head, i);
    printable += length;
    i += length || 1;
  }
  return printable >= head.length * 0.95;
}
