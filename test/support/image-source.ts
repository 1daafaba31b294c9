// A source of disk images in the test process, on loopback: deterministic pseudo-random RAW bytes (so each image's
// SHA-256 is known before it is served), optionally at a bounded rate, so a transfer is still under way when a test
// acts on it. It records when each download began and when its connection closed (a cancelled download stops).
import { createCipheriv, createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testSourceAddress } from './lab-sites';

export interface ImageSpec {
  size: number;
  /** Bytes per second; unbounded if absent. */
  rate?: number;
  seed: number;
}

export interface Download {
  image: string;
  started: number;
  /** When the connection closed (the reader stopped or everything was sent). */
  closed?: number;
  bytes: number;
}

const CHUNK = 256 * 1024;
const zeros = Buffer.alloc(CHUNK);

/** The image's bytes in order: an AES-256-CTR key stream, fast and the same for the same seed. */
function* imageChunks(spec: ImageSpec): Generator<Buffer> {
  const key = createHash('sha256').update(`ferry-test-image-${spec.seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  for (let sent = 0; sent < spec.size; sent += CHUNK) {
    const n = Math.min(CHUNK, spec.size - sent);
    yield cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
  }
}

export function imageSha256(spec: ImageSpec): string {
  const hash = createHash('sha256');
  for (const chunk of imageChunks(spec)) hash.update(chunk);
  return hash.digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(res: ServerResponse, spec: ImageSpec, download: Download): Promise<void> {
  const began = Date.now();
  for (const chunk of imageChunks(spec)) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    download.bytes += chunk.length;
    if (spec.rate) {
      // Ahead of the rate: wait until the bytes sent are due.
      const due = began + (download.bytes / spec.rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  }
  res.end();
}

export class ImageSource {
  private server: Server | undefined;
  private readonly images = new Map<string, ImageSpec>();
  readonly downloads: Download[] = [];

  /** Adds an image served at /<name>; returns its SHA-256. */
  add(name: string, spec: ImageSpec): string {
    this.images.set(name, spec);
    return imageSha256(spec);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      const spec = this.images.get(name);
      if (!spec || req.method !== 'GET') {
        res.writeHead(404).end();
        return;
      }
      const download: Download = { image: name, started: Date.now(), bytes: 0 };
      this.downloads.push(download);
      res.on('close', () => (download.closed = Date.now()));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': spec.size });
      void send(res, spec, download).catch(() => res.destroy());
    });
    // The tests' source address, which the tests' download policy allows (lab-sites.ts).
    await new Promise<void>((resolve) => this.server!.listen(0, testSourceAddress, resolve));
  }

  url(name: string): string {
    return `http://${testSourceAddress}:${(this.server!.address() as AddressInfo).port}/${encodeURIComponent(name)}`;
  }

  /** The downloads of `name` that began at or after `since`. */
  downloadsOf(name: string, since = 0): Download[] {
    return this.downloads.filter((d) => d.image === name && d.started >= since);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
