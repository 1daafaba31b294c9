// Decides whether a disk image is safe to hand to qemu-img, from its bytes as they stream past, before any qemu-img
// opens it. qemu-img follows references inside an image (a qcow2 backing file or external data file, the extents of a
// VMDK descriptor, a VHD parent) and reads them as root on the host, so an image naming /etc/passwd would hand that
// file back as a volume (the class of OpenStack's CVE-2022-47951 and CVE-2024-32498). Pure: no I/O and no node:
// imports, so workflow code can use it too.
//
// API
//   const inspector = new ImageInspector('QCOW2');    // the format the image is claimed to be
//   inspector.update(chunk);                          // every chunk, in order
//   const result = inspector.finish(totalBytes);      // { format, virtualSize?, refusals }; totalBytes is optional
//   inspector.verdict(totalBytes);                    // the same, but throws ImageRefusedError if anything is refused
//   inspectImage('VMDK', wholeFile);                  // the same over bytes already in memory
// `skip(length)` stands for bytes that were not read (the host-side check reads only the head and the tail).
//
// Memory: the first 64 KiB (up to 1 MiB when a header says its structures lie further in), the last 2 KiB, and for an
// OVA the same for one member at a time. Never the whole image.
//
// Rules (Refusal.rule):
//   format-mismatch      the content is not the claimed format (text, empty, or another disk format; RAW and ISO
//                        content must not start with the header of a format qemu-img could probe, QED or VHDX...)
//   qcow2-backing-file   a qcow2 names a backing file
//   qcow2-data-file      a qcow2 keeps its data in an external file (incompatible feature bit 2, header extension)
//   qcow2-encrypted      a qcow2 is encrypted
//   qcow2-unsupported    a qcow2 version, cluster size, feature or header layout Ferry does not accept
//   qcow2-truncated      the file is shorter than its header, L1 table, refcount table or snapshot table says
//   vmdk-subformat       a VMDK other than a single-file monolithicSparse or streamOptimized one (text descriptors)
//   vmdk-extent          a VMDK extent that names a file, more than one extent, or a header that redirects to them
//   vmdk-backing-file    a VMDK descriptor names a parent (parentFileNameHint)
//   vmdk-unsupported     a VMDK version or header layout Ferry does not accept
//   vmdk-truncated       the file is shorter than its descriptor or grain directory says, or its footer is missing
//   vhd-differencing     a VHD differencing disk (it has a parent)
//   vhd-unsupported      a VHD disk type or header layout Ferry does not accept
//   vhd-truncated        the file is shorter than its dynamic header or block table says, or lacks its footer
//   ova-member           an OVA member with an unsafe name or type, or a nested archive
//   ova-truncated        an OVA that ends inside a member
// A refusal of a disk inside an OVA carries that disk's rule, and its message names the member.

import { HEAD_SIZE, TAIL_SIZE, formatMatches, sniffFormat, type ImageFormat, type SniffedFormat } from './image-format';

export type RefusalRule =
  | 'format-mismatch'
  | 'qcow2-backing-file'
  | 'qcow2-data-file'
  | 'qcow2-encrypted'
  | 'qcow2-unsupported'
  | 'qcow2-truncated'
  | 'vmdk-subformat'
  | 'vmdk-extent'
  | 'vmdk-backing-file'
  | 'vmdk-unsupported'
  | 'vmdk-truncated'
  | 'vhd-differencing'
  | 'vhd-unsupported'
  | 'vhd-truncated'
  | 'ova-member'
  | 'ova-truncated';

/** One reason an image is refused: the rule, and a sentence a user can act on. */
export interface Refusal {
  readonly rule: RefusalRule;
  readonly message: string;
}

export interface Inspection {
  /** What the content is (see image-format.ts); judged the same way as FormatSniffer judges it. */
  readonly format: SniffedFormat;
  /** The guest-visible size in bytes (CloudStack's `size`), when the header says it; RAW and ISO: the length. */
  readonly virtualSize?: number;
  /** Empty when the image is safe to use as the claimed format. */
  readonly refusals: readonly Refusal[];
}

/** An image refused by the inspector (or the host-side check): `rule` is the first refusal's. */
export class ImageRefusedError extends Error {
  override readonly name = 'ImageRefusedError';
  readonly rule: RefusalRule;
  constructor(readonly refusals: readonly Refusal[]) {
    super(refusals.map((r) => r.message).join(' '));
    if (refusals.length === 0) throw new Error('an ImageRefusedError needs at least one refusal');
    this.rule = refusals[0]!.rule;
  }
}

/** The most of an image's start the inspector keeps, however far in a header says its structures are. */
export const MAX_HEAD_BYTES = 1024 * 1024;
/** The end kept: a streamOptimized VMDK's footer is the last 1536 bytes of its last whole sector. */
export const TAIL_BYTES = 2048;

/** Inspects a whole image already in memory. */
export function inspectImage(claimed: ImageFormat, bytes: Uint8Array): Inspection {
  const inspector = new ImageInspector(claimed);
  inspector.update(bytes);
  return inspector.finish(bytes.length);
}

/** A streaming inspector for one image; see the top of this file. */
export class ImageInspector {
  private readonly stream: Stream;
  private result: Inspection | undefined;

  constructor(readonly claimed: ImageFormat) {
    this.stream = new Stream(true);
  }

  /** Bytes fed (and skipped) so far. */
  get bytesSeen(): number {
    return this.stream.position;
  }

  update(chunk: Uint8Array): void {
    if (this.result) throw new Error('ImageInspector.update after finish');
    this.stream.update(chunk);
  }

  /** Counts `length` bytes that were not read; only the head before the gap and the tail after it are judged. */
  skip(length: number): void {
    if (this.result) throw new Error('ImageInspector.skip after finish');
    this.stream.skip(length);
  }

  /**
   * Call after the last chunk. `totalBytes`, if given, must equal the bytes fed: an inspector that missed a chunk
   * cannot judge the image, so that is a programming error (thrown), not a refusal.
   */
  finish(totalBytes?: number): Inspection {
    if (totalBytes !== undefined && totalBytes !== this.stream.position) {
      throw new Error(`the inspector was fed ${this.stream.position} bytes of an image of ${totalBytes}`);
    }
    this.result ??= judge(this.stream, this.claimed);
    return this.result;
  }

  /** `finish`, throwing ImageRefusedError when anything is refused. */
  verdict(totalBytes?: number): Inspection {
    const result = this.finish(totalBytes);
    if (result.refusals.length > 0) throw new ImageRefusedError(result.refusals);
    return result;
  }
}

// ---- what is kept of the stream ----

/** The head and tail of a stream, plus (for an OVA) a walk over its tar members. */
class Stream {
  position = 0;
  head = new Uint8Array(HEAD_SIZE);
  headLength = 0;
  /** The head stops growing at the first gap. */
  headClosed = false;
  private headPlanned = false;
  readonly tail = new Uint8Array(TAIL_BYTES);
  tailLength = 0;
  readonly tar: TarWalk | undefined;

  constructor(walkTar: boolean) {
    this.tar = walkTar ? new TarWalk() : undefined;
  }

  update(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    let rest = chunk;
    while (!this.headClosed && rest.length > 0 && this.headLength < this.head.length) {
      const take = rest.subarray(0, this.head.length - this.headLength);
      this.head.set(take, this.headLength);
      this.headLength += take.length;
      rest = rest.subarray(take.length);
      if (!this.headPlanned && this.headLength >= 512) this.planHead();
    }
    this.keepTail(chunk);
    this.tar?.update(chunk);
    this.position += chunk.length;
  }

  skip(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new Error(`cannot skip ${length} bytes`);
    if (length === 0) return;
    this.headClosed = true;
    this.tailLength = 0;
    this.tar?.interrupt();
    this.position += length;
  }

  /** Bytes at [offset, offset + length) if kept (in the head, or in the tail at the end of the stream). */
  bytesAt(offset: number, length: number): Uint8Array | undefined {
    if (offset + length <= this.headLength) return this.head.subarray(offset, offset + length);
    if (offset >= this.position - this.tailLength && offset + length <= this.position)
      return this.ringAt(offset, length);
    return undefined;
  }

  /** The last bytes of the stream, up to `length`. */
  end(length: number): Uint8Array {
    const kept = Math.min(length, this.tailLength);
    return this.ringAt(this.position - kept, kept);
  }

  /** Once the first sector is in, a header may say its structures lie beyond 64 KiB: keep up to where they end. */
  private planHead(): void {
    this.headPlanned = true;
    const wanted = Math.min(MAX_HEAD_BYTES, Math.max(HEAD_SIZE, headBytesWanted(this.head.subarray(0, 512))));
    if (wanted <= this.head.length) return;
    const grown = new Uint8Array(wanted);
    grown.set(this.head.subarray(0, this.headLength));
    this.head = grown;
  }

  /** The tail is a ring: the byte at stream position p is at p % TAIL_BYTES, so a tiny chunk costs only its size. */
  private keepTail(chunk: Uint8Array): void {
    const kept = chunk.subarray(Math.max(0, chunk.length - TAIL_BYTES));
    const at = (this.position + chunk.length - kept.length) % TAIL_BYTES;
    const first = Math.min(kept.length, TAIL_BYTES - at);
    this.tail.set(kept.subarray(0, first), at);
    this.tail.set(kept.subarray(first), 0);
    this.tailLength = Math.min(TAIL_BYTES, this.tailLength + chunk.length);
  }

  private ringAt(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const at = offset % TAIL_BYTES;
    const first = Math.min(length, TAIL_BYTES - at);
    out.set(this.tail.subarray(at, at + first));
    out.set(this.tail.subarray(0, length - first), first);
    return out;
  }
}

/** How much of the start the format's header says matters (its header extensions, descriptor, dynamic header). */
function headBytesWanted(sector: Uint8Array): number {
  const view = dataView(sector);
  if (startsWith(sector, 0, QCOW2_MAGIC)) {
    const clusterBits = view.getUint32(20);
    return clusterBits >= 9 && clusterBits <= 21 ? 2 ** clusterBits : 0;
  }
  if (startsWith(sector, 0, VMDK_MAGIC)) {
    const descriptorEnd = (u64le(view, 28) + u64le(view, 36)) * 512;
    return Math.max(VMDK_PARENT_REGION.offset + VMDK_PARENT_REGION.length, descriptorEnd);
  }
  if (startsWith(sector, 0, VHD_COOKIE)) return u64be(view, 16) + 1024;
  return 0;
}

// ---- judging ----

interface Context {
  readonly stream: Stream;
  readonly total: number;
  readonly refusals: Refusal[];
  refuse(rule: RefusalRule, message: string): void;
}

type Checker = (ctx: Context) => number | undefined;

function judge(stream: Stream, claimed: ImageFormat | undefined, memberName?: string): Inspection {
  const total = stream.position;
  const headForSniff = stream.head.subarray(0, Math.min(stream.headLength, HEAD_SIZE));
  const tailForSniff = stream.end(TAIL_SIZE);
  const format = sniffFormat(headForSniff, tailForSniff, total);
  const refusals: Refusal[] = [];
  const prefix = memberName === undefined ? '' : `OVA member ${quote(memberName)}: `;
  const ctx: Context = {
    stream,
    total,
    refusals,
    refuse(rule, message) {
      const full = prefix + message;
      if (!refusals.some((r) => r.rule === rule && r.message === full)) refusals.push({ rule, message: full });
    },
  };

  if (claimed !== undefined && !formatMatches(claimed, format)) {
    ctx.refuse('format-mismatch', mismatchMessage(claimed, format));
  }
  // Plain data must not carry another disk format's header either: qemu-img, asked to probe it one day, would read
  // it as that format (QED, like qcow2, has backing files).
  const other = format === 'RAW' || format === 'ISO' ? otherDiskFormat(headForSniff) : undefined;
  if (claimed !== undefined && other !== undefined) {
    ctx.refuse('format-mismatch', `The image is ${article(other)} image, which Ferry does not accept as ${claimed}.`);
  }
  // The checks of what the content really is run even on a mismatch: "it is a qcow2 with a backing file" is the
  // useful half of the answer.
  const checker = CHECKERS[format];
  const virtualSize = checker ? checker(ctx) : undefined;
  if (memberName === undefined && format === 'OVA') checkOva(ctx);
  const matched = claimed === undefined || formatMatches(claimed, format);
  return {
    format,
    ...(matched && virtualSize !== undefined ? { virtualSize } : {}),
    refusals,
  };
}

function mismatchMessage(claimed: ImageFormat, format: SniffedFormat): string {
  switch (format) {
    case 'EMPTY':
      return `The image is empty, not ${article(claimed)} image.`;
    case 'TEXT':
      return `The image is text (an error page?), not ${article(claimed)} image.`;
    case 'RAW':
      if (claimed === 'ISO')
        return 'The image has no ISO 9660 volume descriptor (CD001 at byte 32769); it is not an ISO.';
      if (claimed === 'OVA')
        return 'The image is not an OVA (a tar archive whose first member is the .ovf descriptor).';
      return `The image has no ${claimed} header; it is not ${article(claimed)} image.`;
    default:
      return (
        `The image is ${article(format)} image, not the ${claimed} image it is claimed to be; ` +
        `register it as ${format}.`
      );
  }
}

const article = (format: string) => `${/^[AEIOU]/.test(format) ? 'an' : 'a'} ${format}`;

/** Disk formats qemu-img can probe that Ferry does not take: their headers must not hide in "plain" data. */
function otherDiskFormat(head: Uint8Array): string | undefined {
  if (startsWith(head, 0, ascii('QED\0'))) return 'QED';
  if (startsWith(head, 0, ascii('vhdxfile'))) return 'VHDX';
  if (startsWith(head, 0, [...ascii('LUKS'), 0xba, 0xbe])) return 'LUKS';
  if (startsWith(head, 0, ascii('COWD'))) return 'VMDK3';
  if (startsWith(head, 0x40, [0x7f, 0x10, 0xda, 0xbe])) return 'VDI';
  return undefined;
}

const CHECKERS: Partial<Record<SniffedFormat, Checker>> = {
  QCOW2: checkQcow2,
  VMDK: checkVmdk,
  VHD: checkVhd,
  RAW: (ctx) => ctx.total,
  ISO: (ctx) => ctx.total,
};

// ---- QCOW2 (big-endian; docs/interop/qcow2.txt in QEMU) ----

const QCOW2_INCOMPAT_CORRUPT = 1n << 1n;
const QCOW2_INCOMPAT_DATA_FILE = 1n << 2n;
/** dirty, corrupt, external data file, compression type, extended L2: the bits QEMU 7 knows. */
const QCOW2_INCOMPAT_KNOWN = 0b11111n;
const QCOW2_EXT_DATA_FILE = 0x44415441;

function checkQcow2(ctx: Context): number | undefined {
  const { stream, total } = ctx;
  const base = stream.bytesAt(0, 72);
  if (!base) {
    ctx.refuse(
      'qcow2-truncated',
      `The qcow2 image is ${total} bytes, shorter than its 72-byte header; it is truncated.`,
    );
    return undefined;
  }
  const h = dataView(base);
  const version = h.getUint32(4);
  const backingOffset = u64be(h, 8);
  const backingSize = h.getUint32(16);
  const clusterBits = h.getUint32(20);
  const size = u64be(h, 24);
  const cryptMethod = h.getUint32(32);
  const l1Size = h.getUint32(36);
  const l1Offset = u64be(h, 40);
  const refcountOffset = u64be(h, 48);
  const refcountClusters = h.getUint32(56);
  const snapshots = h.getUint32(60);
  const snapshotsOffset = u64be(h, 64);

  if (version !== 2 && version !== 3) {
    ctx.refuse('qcow2-unsupported', `The qcow2 image has version ${version}; only versions 2 and 3 are accepted.`);
    return undefined;
  }
  const clusterSizeValid = clusterBits >= 9 && clusterBits <= 21;
  if (!clusterSizeValid) {
    ctx.refuse(
      'qcow2-unsupported',
      `The qcow2 image has cluster_bits ${clusterBits}; only 9 to 21 (512 B to 2 MiB clusters) are valid.`,
    );
  }
  const clusterSize = clusterSizeValid ? 2 ** clusterBits : 0;

  if (backingOffset !== 0 || backingSize !== 0) {
    const name = backingOffset > 0 ? stream.bytesAt(backingOffset, Math.min(backingSize, 1023)) : undefined;
    ctx.refuse(
      'qcow2-backing-file',
      `The qcow2 image has a backing file${name ? ` (${quote(latin1(name))})` : ''}; images with backing files are ` +
        'refused. Flatten it first (qemu-img convert -O qcow2) and register the result.',
    );
  }
  if (cryptMethod !== 0) {
    ctx.refuse(
      'qcow2-encrypted',
      `The qcow2 image is encrypted (crypt_method ${cryptMethod}); encrypted images are not supported.`,
    );
  }

  let headerLength = 72;
  let dataFileBit = false;
  if (version === 3) {
    const v3 = stream.bytesAt(0, 104);
    if (!v3) {
      ctx.refuse('qcow2-truncated', `The qcow2 image is ${total} bytes, shorter than its version 3 header.`);
      return undefined;
    }
    const h3 = dataView(v3);
    const incompatible = h3.getBigUint64(72);
    headerLength = h3.getUint32(100);
    dataFileBit = (incompatible & QCOW2_INCOMPAT_DATA_FILE) !== 0n;
    if (incompatible & QCOW2_INCOMPAT_CORRUPT) {
      ctx.refuse('qcow2-unsupported', 'The qcow2 image is marked corrupt; repair it with qemu-img check -r all.');
    }
    const unknown = incompatible & ~QCOW2_INCOMPAT_KNOWN;
    if (unknown) {
      ctx.refuse(
        'qcow2-unsupported',
        `The qcow2 image uses incompatible features Ferry does not know (bits 0x${unknown.toString(16)}).`,
      );
    }
    if (headerLength < 104 || (clusterSize && headerLength > clusterSize) || headerLength % 8 !== 0) {
      ctx.refuse('qcow2-unsupported', `The qcow2 image has an invalid header length ${headerLength}.`);
      return undefined;
    }
  }

  // Either the feature bit or the extension naming the file is enough to refuse: QEMU needs both to open it, but
  // nothing else should be trusted to agree.
  const dataFile = clusterSize
    ? qcow2DataFile(ctx, headerLength, backingOffset !== 0 ? backingOffset : clusterSize)
    : undefined;
  if (dataFileBit || dataFile !== undefined) {
    ctx.refuse(
      'qcow2-data-file',
      `The qcow2 image keeps its data in an external data file${dataFile ? ` (${quote(dataFile)})` : ''}; such ` +
        'images are refused. Convert it to a self-contained qcow2 (qemu-img convert -O qcow2) and register the result.',
    );
  }

  // Every table the header points at must lie within the file: a short file is a truncated download.
  const missing: string[] = [];
  if (total < headerLength) missing.push('its header');
  if (l1Size > 0 && l1Offset + l1Size * 8 > total) missing.push('its L1 table');
  if (clusterSize && refcountOffset + refcountClusters * clusterSize > total) missing.push('its refcount table');
  if (refcountClusters === 0 || refcountOffset === 0) {
    ctx.refuse('qcow2-unsupported', 'The qcow2 image has no refcount table; it is damaged.');
  }
  if (snapshots > 0 && snapshotsOffset >= total) missing.push('its snapshot table');
  if (missing.length > 0) {
    ctx.refuse(
      'qcow2-truncated',
      `The qcow2 image is ${total} bytes, too short for ${missing.join(' and ')}; it is truncated or damaged.`,
    );
  }
  if (!Number.isSafeInteger(size)) {
    ctx.refuse('qcow2-unsupported', 'The qcow2 image claims a virtual size beyond 8 PiB.');
    return undefined;
  }
  return size;
}

/**
 * Walks the header extensions ((type u32, length u32, data padded to 8 bytes), ended by type 0, within the first
 * cluster) and returns the external data file's name if one is named ('' if its name cannot be read).
 */
function qcow2DataFile(ctx: Context, start: number, end: number): string | undefined {
  const { stream, total } = ctx;
  let dataFile: string | undefined;
  for (let offset = start; offset + 8 <= end;) {
    const entry = stream.bytesAt(offset, 8);
    if (!entry) {
      if (offset + 8 > total) {
        ctx.refuse('qcow2-truncated', 'The qcow2 image ends inside its header extensions; it is truncated.');
      } else {
        ctx.refuse(
          'qcow2-unsupported',
          `The qcow2 image's header extensions run past the first ${MAX_HEAD_BYTES} bytes, which is all Ferry reads.`,
        );
      }
      break;
    }
    const e = dataView(entry);
    const type = e.getUint32(0);
    const length = e.getUint32(4);
    if (type === 0) break;
    if (type === QCOW2_EXT_DATA_FILE) {
      const name = stream.bytesAt(offset + 8, Math.min(length, 1023));
      dataFile = name ? latin1(name) : '';
    }
    offset += 8 + Math.ceil(length / 8) * 8;
  }
  return dataFile;
}

// ---- VMDK (sparse extent header little-endian; VMware's "Virtual Disk Format 5.0") ----

const VMDK_GD_AT_END = Number.MAX_SAFE_INTEGER; // u64le() saturates 0xFFFFFFFFFFFFFFFF to this
const VMDK_FLAG_REDUNDANT_GD = 1 << 1;
/** QEMU reads a sparse VMDK's parent (parentFileNameHint) from these 20 sectors, whatever the header says. */
const VMDK_PARENT_REGION = { offset: 512, length: 20 * 512 };
const VMDK_SUPPORTED_TYPES = ['monolithicSparse', 'streamOptimized'];
const VMDK_MARKER_EOS = 0;
const VMDK_MARKER_FOOTER = 3;

interface VmdkExtent {
  access: string;
  type: string;
  file?: string;
}

function checkVmdk(ctx: Context): number | undefined {
  const { stream } = ctx;
  if (startsWith(stream.head, 0, VMDK_DESCRIPTOR)) return checkVmdkDescriptorFile(ctx);
  return checkVmdkSparse(ctx);
}

/** A bare text descriptor: the disk is in the files it names, so it is never a single-file image. */
function checkVmdkDescriptorFile(ctx: Context): undefined {
  const text = cText(ctx.stream.head.subarray(0, ctx.stream.headLength));
  const createType = vmdkCreateType(text) ?? 'none';
  const extents = vmdkExtents(text);
  const files = extents.flatMap((e) => (e.file === undefined ? [] : [e.file]));
  ctx.refuse(
    'vmdk-subformat',
    `The VMDK image is a text descriptor (createType ${quote(createType)}) whose data lives in other files; only ` +
      'single-file monolithicSparse and streamOptimized VMDKs are accepted. Convert it with ' +
      'qemu-img convert -O vmdk -o subformat=streamOptimized and register the result.',
  );
  for (const file of files) {
    ctx.refuse(
      'vmdk-extent',
      `The VMDK descriptor has an extent in the file ${quote(file)}; extents in files are refused.`,
    );
  }
  checkVmdkParent(ctx, text);
  return undefined;
}

function checkVmdkSparse(ctx: Context): number | undefined {
  const { stream, total } = ctx;
  const header = stream.bytesAt(0, 512);
  if (!header) {
    ctx.refuse(
      'vmdk-truncated',
      `The VMDK image is ${total} bytes, shorter than its 512-byte header; it is truncated.`,
    );
    return undefined;
  }
  const h = dataView(header);
  const version = h.getUint32(4, true);
  const flags = h.getUint32(8, true);
  let capacity = u64le(h, 12);
  let grainSize = u64le(h, 20);
  const descriptorOffset = u64le(h, 28);
  const descriptorSize = u64le(h, 36);
  let gtesPerGt = h.getUint32(44, true);
  let rgdOffset = u64le(h, 48);
  let gdOffset = u64le(h, 56);
  if (version < 1 || version > 3) {
    ctx.refuse('vmdk-unsupported', `The VMDK image has version ${version}; only sparse versions 1 to 3 are accepted.`);
    return undefined;
  }

  // QEMU reads the parent hint from sector 1 on, even when the header puts the descriptor elsewhere.
  const parentRegion = stream.bytesAt(VMDK_PARENT_REGION.offset, Math.min(VMDK_PARENT_REGION.length, total - 512));
  if (parentRegion) checkVmdkParent(ctx, cText(parentRegion));

  if (descriptorOffset !== 0) {
    const start = descriptorOffset * 512;
    const length = descriptorSize * 512;
    const descriptor = stream.bytesAt(start, length);
    if (start + length > total) {
      ctx.refuse('vmdk-truncated', `The VMDK image is ${total} bytes, too short for its descriptor; it is truncated.`);
    } else if (!descriptor) {
      ctx.refuse(
        'vmdk-unsupported',
        `The VMDK image's descriptor lies beyond the first ${MAX_HEAD_BYTES} bytes, which is all Ferry reads.`,
      );
    } else {
      checkVmdkEmbeddedDescriptor(ctx, cText(descriptor));
    }
  }
  // With no capacity QEMU opens the embedded descriptor as a descriptor file and follows its extents.
  if (capacity === 0 && descriptorOffset !== 0) {
    ctx.refuse(
      'vmdk-extent',
      'The VMDK header has capacity 0, which makes qemu-img open the files its descriptor names instead of the ' +
        'image itself; refused.',
    );
    return undefined;
  }

  if (gdOffset === VMDK_GD_AT_END) {
    // streamOptimized as VMware writes it: the grain directory's place is in a footer at the end, and the footer's
    // header is the one QEMU uses.
    const footer = vmdkFooter(stream);
    if (!footer) {
      ctx.refuse(
        'vmdk-truncated',
        'The VMDK image says its grain directory is in a footer at its end, but it has no valid footer there; ' +
          'it is truncated or damaged.',
      );
      return undefined;
    }
    const f = dataView(footer);
    capacity = u64le(f, 12);
    grainSize = u64le(f, 20);
    gtesPerGt = f.getUint32(44, true);
    rgdOffset = u64le(f, 48);
    gdOffset = u64le(f, 56);
    if (gdOffset === VMDK_GD_AT_END) {
      ctx.refuse('vmdk-unsupported', "The VMDK image's footer points at itself for its grain directory.");
      return undefined;
    }
  }
  if (grainSize === 0 || gtesPerGt === 0 || capacity === 0) {
    ctx.refuse('vmdk-unsupported', 'The VMDK image has a zero grain size, grain table size or capacity.');
    return undefined;
  }
  const gdBytes = Math.ceil(capacity / (grainSize * gtesPerGt)) * 4;
  const tooShort: string[] = [];
  if (gdOffset * 512 + gdBytes > total) tooShort.push('its grain directory');
  if (flags & VMDK_FLAG_REDUNDANT_GD && rgdOffset !== 0 && rgdOffset * 512 + gdBytes > total) {
    tooShort.push('its redundant grain directory');
  }
  if (tooShort.length > 0) {
    ctx.refuse(
      'vmdk-truncated',
      `The VMDK image is ${total} bytes, too short for ${tooShort.join(' and ')}; it is truncated.`,
    );
  }
  const virtualSize = capacity * 512;
  if (!Number.isSafeInteger(virtualSize)) {
    ctx.refuse('vmdk-unsupported', 'The VMDK image claims a virtual size beyond 8 PiB.');
    return undefined;
  }
  return virtualSize;
}

/** The footer's header (after its magic), checked as QEMU checks it, or undefined. */
function vmdkFooter(stream: Stream): Uint8Array | undefined {
  const end = Math.floor(stream.position / 512) * 512;
  if (end < 1536 + 512) return undefined;
  const block = stream.bytesAt(end - 1536, 1536);
  if (!block) return undefined;
  const v = dataView(block);
  // As QEMU checks: the footer marker's value is the footer's sector count (VMware writes 1), so only its size and
  // type are checked; the end-of-stream marker is all zero.
  const marker = (at: number, type: number) => v.getUint32(at + 8, true) === 0 && v.getUint32(at + 12, true) === type;
  const eos = u64le(v, 1024) === 0 && marker(1024, VMDK_MARKER_EOS);
  if (!marker(0, VMDK_MARKER_FOOTER) || !startsWith(block, 512, VMDK_MAGIC) || !eos) {
    return undefined;
  }
  return block.subarray(512, 1024);
}

/** The descriptor of a sparse extent: one SPARSE extent (itself), a supported createType, no parent. */
function checkVmdkEmbeddedDescriptor(ctx: Context, text: string): void {
  const createType = vmdkCreateType(text) ?? 'monolithicSparse';
  if (!VMDK_SUPPORTED_TYPES.includes(createType)) {
    ctx.refuse(
      'vmdk-subformat',
      `The VMDK image has createType ${quote(createType)}; only single-file monolithicSparse and streamOptimized ` +
        'VMDKs are accepted. Convert it with qemu-img convert -O vmdk -o subformat=streamOptimized.',
    );
  }
  const extents = vmdkExtents(text);
  if (extents.length > 1) {
    ctx.refuse(
      'vmdk-extent',
      `The VMDK image's descriptor lists ${extents.length} extents; a single-file VMDK has exactly one.`,
    );
  }
  for (const extent of extents) {
    if (extent.type.toUpperCase() !== 'SPARSE') {
      ctx.refuse(
        'vmdk-extent',
        `The VMDK image's descriptor has a ${extent.type} extent${extent.file ? ` in ${quote(extent.file)}` : ''}; ` +
          'only the image itself (one SPARSE extent) is accepted.',
      );
    } else if (extent.file !== undefined && /[/\\]/.test(extent.file)) {
      ctx.refuse(
        'vmdk-extent',
        `The VMDK image's descriptor names the extent file ${quote(extent.file)}, a path; refused.`,
      );
    }
  }
}

function checkVmdkParent(ctx: Context, text: string): void {
  const index = text.indexOf('parentFileNameHint');
  if (index === -1) return;
  const hint = /parentFileNameHint\s*=\s*"([^"\r\n]*)"/.exec(text.slice(index))?.[1];
  ctx.refuse(
    'vmdk-backing-file',
    `The VMDK image names a parent disk${hint === undefined ? '' : ` (${quote(hint)})`}; images with parents are ` +
      'refused. Convert it to a standalone VMDK first.',
  );
}

function vmdkCreateType(text: string): string | undefined {
  return /^[ \t]*createType[ \t]*=[ \t]*"?([^"\r\n]*?)"?[ \t]*$/im.exec(text)?.[1];
}

/** Extent lines as QEMU reads them: `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`. */
function vmdkExtents(text: string): VmdkExtent[] {
  const extents: VmdkExtent[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    const match = /^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+(\S+)(?:\s+"([^"]*)")?/i.exec(line);
    if (!match) continue;
    const extent: VmdkExtent = { access: match[1]!, type: match[2]! };
    if (match[3] !== undefined) extent.file = match[3];
    extents.push(extent);
  }
  return extents;
}

// ---- VHD (qemu's vpc; big-endian; Microsoft's "Virtual Hard Disk Image Format Specification") ----

const VHD_FIXED = 2;
const VHD_DYNAMIC = 3;
const VHD_DIFFERENCING = 4;
const VHD_MAX_GEOMETRY = 65535 * 16 * 255;

function checkVhd(ctx: Context): number | undefined {
  const { stream, total } = ctx;
  const copy = startsWith(stream.head.subarray(0, stream.headLength), 0, VHD_COOKIE)
    ? stream.bytesAt(0, 512)
    : undefined;
  const endBytes = total >= 512 ? stream.bytesAt(total - 512, 512) : undefined;
  const end = endBytes && startsWith(endBytes, 0, VHD_COOKIE) ? endBytes : undefined;
  // QEMU uses the copy at offset 0 when there is one, else the footer at the end; both are checked.
  const footer = copy ?? end;
  if (!footer) {
    ctx.refuse('vhd-truncated', `The VHD image is ${total} bytes, too short for its 512-byte footer; it is truncated.`);
    return undefined;
  }
  const types = [copy, end].flatMap((f) => (f ? [dataView(f).getUint32(60)] : []));
  if (types.includes(VHD_DIFFERENCING)) {
    ctx.refuse(
      'vhd-differencing',
      'The VHD image is a differencing disk, which reads the rest of its data from a parent disk; differencing ' +
        'disks are refused. Coalesce it into a dynamic or fixed VHD first.',
    );
    return undefined;
  }
  const f = dataView(footer);
  const type = f.getUint32(60);
  if (type !== VHD_FIXED && type !== VHD_DYNAMIC) {
    ctx.refuse('vhd-unsupported', `The VHD image has disk type ${type}; only fixed (2) and dynamic (3) are accepted.`);
    return undefined;
  }
  if (types.length === 2 && types[0] !== types[1]) {
    ctx.refuse('vhd-unsupported', 'The VHD image has two footers that disagree about its disk type.');
    return undefined;
  }
  const currentSize = u64be(f, 48);

  if (type === VHD_DYNAMIC) {
    if (!end) {
      ctx.refuse('vhd-truncated', 'The dynamic VHD image has no footer at its end; it is truncated.');
    }
    const headerOffset = u64be(f, 16);
    const header = stream.bytesAt(headerOffset, 1024);
    if (headerOffset + 1024 > total) {
      ctx.refuse('vhd-truncated', `The VHD image is ${total} bytes, too short for its dynamic disk header.`);
      return undefined;
    }
    if (!header) {
      ctx.refuse(
        'vhd-unsupported',
        `The VHD image's dynamic disk header lies beyond the first ${MAX_HEAD_BYTES} bytes, which is all Ferry reads.`,
      );
      return undefined;
    }
    if (!startsWith(header, 0, VHD_DYNAMIC_COOKIE)) {
      ctx.refuse('vhd-unsupported', "The VHD image's dynamic disk header is missing (no cxsparse cookie).");
      return undefined;
    }
    const d = dataView(header);
    const tableOffset = u64be(d, 16);
    const entries = d.getUint32(28);
    if (tableOffset + entries * 4 > total) {
      ctx.refuse(
        'vhd-truncated',
        `The VHD image is ${total} bytes, too short for its block allocation table; it is truncated.`,
      );
    }
  } else if (currentSize + 512 > total) {
    ctx.refuse('vhd-truncated', `The fixed VHD image is ${total} bytes, too short for its ${currentSize}-byte disk.`);
  }
  return vhdVirtualSize(f);
}

/**
 * The size QEMU shows: VHDs from Virtual PC (and QEMU's 'qemu' creator) are sized by their CHS geometry, those from
 * Hyper-V, disk2vhd, XenServer and QEMU with force_size ('qem2') by the footer's current size.
 */
function vhdVirtualSize(f: DataView): number {
  const creator = latin1(new Uint8Array(f.buffer, f.byteOffset + 28, 4));
  const geometrySectors = f.getUint16(56) * f.getUint8(58) * f.getUint8(59);
  const useCurrentSize = ['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'].includes(creator);
  return useCurrentSize || geometrySectors === VHD_MAX_GEOMETRY
    ? Math.floor(u64be(f, 48) / 512) * 512
    : geometrySectors * 512;
}

// ---- OVA (a tar; its disks are inspected as they stream past) ----

/** Walks tar headers as bytes stream past, inspecting each member that may be a disk with an inspector of its own. */
class TarWalk {
  private state: 'header' | 'data' | 'padding' | 'done' | 'broken' = 'header';
  private readonly header = new Uint8Array(512);
  private headerLength = 0;
  private remaining = 0;
  private padding = 0;
  private member: { name: string; size: number; type: string; stream?: Stream; text?: Uint8Array[] } | undefined;
  private longName: string | undefined;
  private textLength = 0;
  interrupted = false;
  readonly refusals: Refusal[] = [];
  /** The member the stream ended in, if it did. */
  endedInside: string | undefined;

  update(chunk: Uint8Array): void {
    let rest = chunk;
    while (rest.length > 0 && this.state !== 'done' && this.state !== 'broken') {
      if (this.state === 'header') {
        const take = rest.subarray(0, 512 - this.headerLength);
        this.header.set(take, this.headerLength);
        this.headerLength += take.length;
        rest = rest.subarray(take.length);
        if (this.headerLength === 512) this.startMember();
      } else if (this.state === 'data') {
        const take = rest.subarray(0, Math.min(rest.length, this.remaining));
        this.memberData(take);
        this.remaining -= take.length;
        rest = rest.subarray(take.length);
        if (this.remaining === 0) this.endMember();
      } else {
        const take = Math.min(rest.length, this.padding);
        this.padding -= take;
        rest = rest.subarray(take);
        if (this.padding === 0) this.state = 'header';
      }
    }
  }

  interrupt(): void {
    this.interrupted = true;
    this.state = 'broken';
  }

  finish(): void {
    if (this.state === 'data' || this.state === 'padding' || (this.state === 'header' && this.headerLength > 0)) {
      this.endedInside = this.member?.name ?? 'a tar header';
    }
  }

  private startMember(): void {
    this.headerLength = 0;
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.state = 'done'; // the end-of-archive blocks; anything after them is never extracted
      return;
    }
    if (!startsWith(h, 257, USTAR_MAGIC)) {
      this.state = 'broken';
      return;
    }
    const size = tarNumber(h.subarray(124, 136));
    const type = String.fromCharCode(h[156]!);
    const prefix = cText(h.subarray(345, 500));
    const name = this.longName ?? (prefix ? `${prefix}/` : '') + cText(h.subarray(0, 100));
    this.longName = undefined;
    if (size === undefined) {
      this.refuse('ova-member', `The OVA has a member (${quote(name)}) whose size cannot be read.`);
      this.state = 'broken';
      return;
    }
    this.member = { name, size, type };
    if (type === 'x' || type === 'L') {
      if (size > 64 * 1024) {
        this.refuse('ova-member', `The OVA has a ${size}-byte extended header; at most 64 KiB is accepted.`);
        this.state = 'broken';
        return;
      }
      this.member.text = [];
      this.textLength = 0;
    } else if (type === '0' || type === '\0' || type === '7') {
      if (!safeMemberName(name)) {
        this.refuse('ova-member', `The OVA has a member named ${quote(name)}, outside the archive's own directory.`);
      }
      if (!/\.(ovf|mf|cert)$/i.test(name)) this.member.stream = new Stream(false);
    } else if (type === '5') {
      if (!safeMemberName(name)) {
        this.refuse('ova-member', `The OVA has a directory named ${quote(name)}, outside the archive's own directory.`);
      }
    } else if (type !== 'g') {
      this.refuse(
        'ova-member',
        `The OVA has a member ${quote(name)} of tar type ${quote(type)}; only files are accepted.`,
      );
    }
    this.remaining = size;
    this.padding = (512 - (size % 512)) % 512;
    if (size === 0) this.endMember();
    else this.state = 'data';
  }

  private memberData(data: Uint8Array): void {
    const member = this.member!;
    member.stream?.update(data);
    if (member.text) {
      member.text.push(data.slice());
      this.textLength += data.length;
    }
  }

  private endMember(): void {
    const member = this.member!;
    if (member.text) {
      const all = new Uint8Array(this.textLength);
      let at = 0;
      for (const part of member.text) {
        all.set(part, at);
        at += part.length;
      }
      if (member.type === 'L') this.longName = cText(all);
      else this.longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(latin1(all))?.[1] ?? this.longName;
    }
    if (member.stream) {
      const inspection = judge(member.stream, undefined, member.name);
      this.refusals.push(...inspection.refusals);
      if (inspection.format === 'OVA') {
        this.refuse('ova-member', `The OVA contains another tar archive (${quote(member.name)}); refused.`);
      }
    }
    this.member = { ...member, stream: undefined, text: undefined };
    this.state = this.padding > 0 ? 'padding' : 'header';
  }

  private refuse(rule: RefusalRule, message: string): void {
    this.refusals.push({ rule, message });
  }
}

function checkOva(ctx: Context): void {
  const tar = ctx.stream.tar;
  if (!tar) return;
  tar.finish();
  if (tar.interrupted) {
    ctx.refuse('ova-member', 'The OVA was not read whole, so its members cannot be checked.');
    return;
  }
  for (const r of tar.refusals) ctx.refuse(r.rule, r.message);
  if (tar.endedInside !== undefined) {
    ctx.refuse('ova-truncated', `The OVA ends inside ${quote(tar.endedInside)}; it is truncated.`);
  }
}

/** A relative name with no '..' component: what an OVA's files are. */
function safeMemberName(name: string): boolean {
  return name.length > 0 && !name.startsWith('/') && !name.split('/').includes('..') && !name.includes('\\');
}

/** A tar numeric field: octal ASCII, or GNU base-256 (high bit set) for large members. */
function tarNumber(field: Uint8Array): number | undefined {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = cText(field).trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

// ---- bytes ----

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];
const VMDK_MAGIC = ascii('KDMV');
const VMDK_DESCRIPTOR = ascii('# Disk DescriptorFile');
const VHD_COOKIE = ascii('conectix');
const VHD_DYNAMIC_COOKIE = ascii('cxsparse');
const USTAR_MAGIC = ascii('ustar');

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A u64 as a number; values past 2^53 become MAX_SAFE_INTEGER, which every bounds check then treats as too far. */
function u64be(view: DataView, offset: number): number {
  const value = view.getBigUint64(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function u64le(view: DataView, offset: number): number {
  const value = view.getBigUint64(offset, true);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function startsWith(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  return magic.every((b, i) => bytes[offset + i] === b);
}

/** Bytes as a string, one character per byte. */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return text;
}

/** Bytes up to the first NUL, as C code (QEMU's strstr, tar's names) reads them. */
function cText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return latin1(end === -1 ? bytes : bytes.subarray(0, end));
}

/** A name from inside an image, safe to show: quoted, control characters escaped, at most 200 characters. */
function quote(name: string): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;
  return JSON.stringify(shown);
}
