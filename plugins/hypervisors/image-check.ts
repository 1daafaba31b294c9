// The host-side image check, run on a hypervisor host before any qemu-img converts (or otherwise opens) a file: an
// image placed on a pool by hand, or one that changed since Ferry inspected it, is judged again where qemu-img runs.
// `qemu-img info` alone is not a check: on a VMDK descriptor it opens every extent it names (strace shows it opening
// /etc/passwd), so the file's own header is inspected first, from its head and tail, with the streaming inspector;
// only an image that passes is given to `qemu-img info`, with the format named (never probed) and the backing chain
// disabled, and its answer is checked for backing files, data files and extents once more.
//
// API
//   checkImageOnHost(run, 'QCOW2', path)   all of the below, in order; `run` runs an argv on the host, returns stdout
//   imageSizeArgv(path)                    the file's size (stat -L)
//   imageSampleArgv(path, size)            od commands printing its head and tail as hex
//   inspectImageSample(format, size, outs) the streaming inspector over those outputs
//   imageInfoArgv(format, path)            qemu-img info --output=json -f <fmt> json:{driver, backing: null, file}
//   checkImageInfo(format, path, stdout)   refusals from qemu-img info's JSON
// Refusals have the streaming inspector's shape and rules (core/image-inspector.ts).

import { qemuImgFormat, type ImageFormat } from '../../core/image-format';
import {
  ImageInspector,
  MAX_HEAD_BYTES,
  TAIL_BYTES,
  type Inspection,
  type Refusal,
  type RefusalRule,
} from '../../core/image-inspector';
import type { Argv } from './contract';

export interface HostImageCheck {
  /** qemu-img's name for the format it opened the file as (qcow2, vpc, vmdk, raw); absent if it was never run. */
  readonly qemuFormat?: string;
  /** The guest-visible size qemu-img reports (or the header says, if qemu-img was never run). */
  readonly virtualSize?: number;
  /** Empty when the file may be converted. */
  readonly refusals: readonly Refusal[];
}

/** Runs one argv on the host and resolves to its stdout; rejects when the command fails. */
export type RunOnHost = (argv: Argv) => Promise<string>;

export interface ImageInfoOptions {
  /**
   * `-U` (force share): read the image even while another process holds its write lock. Only for images Ferry
   * itself has open elsewhere (a running VM's disk); otherwise a locked image should fail the check, not be read
   * mid-write.
   */
  forceShare?: boolean;
}

/** Inspects a file on a host: header first, then (only if that passes) qemu-img info. */
export async function checkImageOnHost(
  run: RunOnHost,
  format: ImageFormat,
  path: string,
  options: ImageInfoOptions = {},
): Promise<HostImageCheck> {
  const size = Number((await run(imageSizeArgv(path))).trim());
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`stat gave no size for ${path}`);
  const outputs: string[] = [];
  for (const argv of imageSampleArgv(path, size)) outputs.push(await run(argv));
  const header = inspectImageSample(format, size, outputs);
  if (header.refusals.length > 0) {
    return {
      refusals: header.refusals,
      ...(header.virtualSize === undefined ? {} : { virtualSize: header.virtualSize }),
    };
  }
  return checkImageInfo(format, path, await run(imageInfoArgv(format, path, options)));
}

export function imageSizeArgv(path: string): Argv {
  return ['stat', '-L', '-c', '%s', '--', path];
}

/**
 * Commands printing the file's first MAX_HEAD_BYTES and last TAIL_BYTES as hex (od, so binary survives a text
 * channel); one command when the head covers the whole file.
 */
export function imageSampleArgv(path: string, size: number): Argv[] {
  const od = (skip: number, count: number): Argv => [
    'od',
    '-A',
    'n',
    '-v',
    '-t',
    'x1',
    ...(skip > 0 ? ['-j', String(skip)] : []),
    '-N',
    String(count),
    '--',
    path,
  ];
  const head = Math.min(size, MAX_HEAD_BYTES);
  const pieces: Argv[] = [];
  for (let at = 0; at < head; at += SAMPLE_PIECE_BYTES) pieces.push(od(at, Math.min(SAMPLE_PIECE_BYTES, head - at)));
  if (pieces.length === 0) pieces.push(od(0, 0));
  if (size <= head) return pieces;
  const tailStart = Math.max(head, size - TAIL_BYTES);
  return [...pieces, od(tailStart, size - tailStart)];
}

/**
 * The head is read in pieces: od prints three characters a byte, and the SSH executor keeps at most 1 MiB of a
 * command's output, so one piece of 256 KiB (~780 KB of text) always arrives whole.
 */
const SAMPLE_PIECE_BYTES = 256 * 1024;

/** How many of imageSampleArgv's commands read the head (the one after them, if any, reads the tail). */
const headPieces = (size: number) => Math.max(1, Math.ceil(Math.min(size, MAX_HEAD_BYTES) / SAMPLE_PIECE_BYTES));

/** The streaming inspector over imageSampleArgv's outputs (the bytes between head and tail are skipped). */
export function inspectImageSample(format: ImageFormat, size: number, outputs: readonly string[]): Inspection {
  const pieces = headPieces(size);
  if (outputs.length < pieces) throw new Error('no sample of the image was read');
  const headHex = outputs.slice(0, pieces).join('\n');
  const tailHex = outputs[pieces];
  const head = parseOd(headHex);
  const tail = tailHex === undefined ? new Uint8Array(0) : parseOd(tailHex);
  const gap = size - head.length - tail.length;
  if (gap < 0 || (tailHex === undefined && gap !== 0)) {
    throw new Error(`the sample (${head.length} + ${tail.length} bytes) does not fit a file of ${size} bytes`);
  }
  const inspector = new ImageInspector(format);
  inspector.update(head);
  inspector.skip(gap);
  inspector.update(tail);
  return inspector.finish(size);
}

/** `od -A n -t x1` output ("51 46 49 fb ...") as bytes; scanned by hand, since a MiB of it is a million words. */
function parseOd(text: string): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(text.length / 3));
  let count = 0;
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    const high = hexDigit(c);
    const low = hexDigit(text.charCodeAt(i + 1));
    const after = text.charCodeAt(i + 2);
    if (high < 0 || low < 0 || !(Number.isNaN(after) || after === 0x20 || after === 0x0a || after === 0x0d)) {
      throw new Error(`od printed ${JSON.stringify(text.slice(i, i + 20))}`);
    }
    bytes[count++] = high * 16 + low;
    i += 2;
  }
  return bytes.subarray(0, count);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * `qemu-img info` that cannot probe (`-f` names the format, and qemu-img then ignores the content's own magic) and
 * does not open a backing file (`"backing": null`; never `--backing-chain`). Paths are Ferry's own; JSON quoting keeps
 * any character in them literal.
 */
export function imageInfoArgv(format: ImageFormat, path: string, options: ImageInfoOptions = {}): Argv {
  const driver = driverOf(format);
  const spec = JSON.stringify({ driver, backing: null, file: { driver: 'file', filename: path } });
  return ['qemu-img', 'info', '--output=json', '-f', driver, ...(options.forceShare ? ['-U'] : []), `json:${spec}`];
}

/** Refusals from `qemu-img info --output=json` of the file at `path`, opened as `format`. */
export function checkImageInfo(format: ImageFormat, path: string, stdout: string): HostImageCheck {
  const driver = driverOf(format);
  const info = parseJsonObject(stdout);
  const refusals: Refusal[] = [];
  const refuse = (rule: RefusalRule, message: string) => {
    if (!refusals.some((r) => r.rule === rule && r.message === message)) refusals.push({ rule, message });
  };
  const opened = typeof info.format === 'string' ? info.format : undefined;
  if (opened !== driver) {
    refuse(
      'format-mismatch',
      `qemu-img opened the file as ${JSON.stringify(opened ?? 'nothing')}, not the ${driver} it was asked for.`,
    );
  }

  // Anywhere in the answer (the image, or child nodes newer qemu-img lists), a backing file or data file is refused.
  for (const node of objectsIn(info)) {
    const backing = stringField(node, 'full-backing-filename') ?? stringField(node, 'backing-filename');
    if (backing !== undefined)
      refuse(
        backingRule(driver),
        `${formatName(driver)} names a backing file (${show(backing)}); images with backing files are refused.`,
      );
    const data = objectField(objectField(node, 'format-specific'), 'data');
    const dataFile = stringField(data, 'data-file');
    if (dataFile !== undefined) {
      refuse(
        'qcow2-data-file',
        `The qcow2 image keeps its data in an external data file (${show(dataFile)}); such images are refused.`,
      );
    }
    if (data?.encrypt !== undefined || node.encrypted === true) {
      refuse('qcow2-encrypted', `${formatName(driver)} is encrypted; encrypted images are not supported.`);
    }
    if (data?.corrupt === true)
      refuse('qcow2-unsupported', 'The qcow2 image is marked corrupt; repair it with qemu-img check -r all.');
  }

  if (driver === 'vmdk') {
    const data = objectField(objectField(info, 'format-specific'), 'data');
    const createType = stringField(data, 'create-type');
    if (createType !== 'monolithicSparse' && createType !== 'streamOptimized') {
      refuse(
        'vmdk-subformat',
        `The VMDK image has createType ${show(createType ?? 'none')}; only single-file monolithicSparse and ` +
          'streamOptimized VMDKs are accepted.',
      );
    }
    const extents = Array.isArray(data?.extents) ? data.extents : [];
    const self = stringField(info, 'filename') ?? path;
    if (extents.length !== 1)
      refuse('vmdk-extent', `The VMDK image has ${extents.length} extents; a single-file VMDK has exactly one.`);
    for (const extent of extents) {
      const file = stringField(isObject(extent) ? extent : undefined, 'filename');
      if (file !== self && file !== path) {
        refuse(
          'vmdk-extent',
          `The VMDK image has an extent in the file ${show(file ?? 'unknown')}; extents in other files are refused.`,
        );
      }
    }
  }

  const virtualSize = info['virtual-size'];
  return {
    ...(opened === undefined ? {} : { qemuFormat: opened }),
    ...(typeof virtualSize === 'number' ? { virtualSize } : {}),
    refusals,
  };
}

type JsonObject = { [key: string]: unknown };

function driverOf(format: ImageFormat): string {
  const driver = qemuImgFormat(format);
  if (!driver) throw new Error(`${format} images are not opened by qemu-img on a host`);
  return driver;
}

function backingRule(driver: string): RefusalRule {
  return driver === 'vmdk' ? 'vmdk-backing-file' : driver === 'vpc' ? 'vhd-differencing' : 'qcow2-backing-file';
}

function formatName(driver: string): string {
  return driver === 'vpc' ? 'The VHD image' : driver === 'vmdk' ? 'The VMDK image' : `The ${driver} image`;
}

function parseJsonObject(text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`qemu-img info printed no JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isObject(value)) throw new Error('qemu-img info printed JSON that is not an object');
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectField(node: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = node?.[key];
  return isObject(value) ? value : undefined;
}

function stringField(node: JsonObject | undefined, key: string): string | undefined {
  const value = node?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Every object in a JSON value, itself included. */
function* objectsIn(value: unknown): Generator<JsonObject> {
  if (Array.isArray(value)) {
    for (const item of value) yield* objectsIn(item);
  } else if (isObject(value)) {
    yield value;
    for (const item of Object.values(value)) yield* objectsIn(item);
  }
}

/** A name from the image, quoted with control characters escaped, at most 200 characters. */
function show(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
