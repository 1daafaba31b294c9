// The contract every image-store driver must keep, run against each real backend by its provider's test file.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageStoreDriver, ImageStoreProvider, MultipartState } from './contract';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes, generated as a stream (never the whole object in memory at once). */
export function patternStream(size: number, seed: number): Readable {
  let sent = 0;
  let x = seed >>> 0 || 1;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(256 * 1024, size - sent);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x & 0xff;
      }
      sent += n;
      this.push(chunk);
    },
  });
}

export async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
}

const bytesOf = async (stream: AsyncIterable<Uint8Array>) => {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
};

export interface ContractTarget {
  provider: ImageStoreProvider;
  /** Opens a fresh driver on the backend under test (called more than once: a resumed upload uses a new one). */
  open(): Promise<ImageStoreDriver>;
}

export function imageStoreContract(name: string, target: () => ContractTarget) {
  describe(`image store contract: ${name}`, () => {
    let driver: ImageStoreDriver;
    const prefix = `contract-${randomUUID().slice(0, 8)}/`;
    beforeAll(async () => {
      driver = await target().open();
      await driver.check();
    });
    afterAll(async () => {
      for await (const o of driver.list(prefix)) await driver.delete(o.key);
      await driver.close();
    });

    it('round-trips a streamed object with its SHA-256, and heads it', async () => {
      const key = `${prefix}round/trip.qcow2`;
      const size = 3 * MiB + 17;
      const want = await sha256Of(patternStream(size, 1));
      expect(await driver.put(key, patternStream(size, 1), size)).toEqual({ key, size });
      expect(await driver.head(key)).toEqual({ key, size });
      expect(await sha256Of(await driver.get(key))).toBe(want);
    });

    it('reads byte ranges', async () => {
      const key = `${prefix}ranged.raw`;
      await driver.put(key, patternStream(MiB, 2), MiB);
      const whole = await bytesOf(await driver.get(key));
      expect(await bytesOf(await driver.get(key, { start: 1000, end: 1999 }))).toEqual(whole.subarray(1000, 2000));
      expect(await bytesOf(await driver.get(key, { start: MiB - 10, end: MiB - 1 }))).toEqual(whole.subarray(MiB - 10));
    });

    it('lists by prefix and deletes idempotently', async () => {
      const keys = [`${prefix}list/a`, `${prefix}list/b`, `${prefix}list/sub/c`];
      for (const k of keys) await driver.put(k, patternStream(100, 3), 100);
      const listed: string[] = [];
      for await (const o of driver.list(`${prefix}list/`)) listed.push(o.key);
      expect(listed.sort()).toEqual(keys);
      await driver.delete(keys[0]!);
      await driver.delete(keys[0]!);
      expect(await driver.head(keys[0]!)).toBeUndefined();
      const after: string[] = [];
      for await (const o of driver.list(`${prefix}list/`)) after.push(o.key);
      expect(after.sort()).toEqual(keys.slice(1));
    });

    it('gives expiring URLs that plain HTTP can fetch', async () => {
      const key = `${prefix}url/disk image.raw`;
      await driver.put(key, patternStream(64 * 1024, 4), 64 * 1024);
      const url = await driver.expiringUrl(key, 60);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await sha256Of(res.body as unknown as AsyncIterable<Uint8Array>)).toBe(
        await sha256Of(patternStream(64 * 1024, 4)),
      );
      expect((await fetch(tampered(url))).ok).toBe(false);
    });

    it('writes an object larger than one part with multipart, resumed from saved state by a new driver', async () => {
      const key = `${prefix}multi/large.qcow2`;
      const partSize = Math.max(driver.multipart.minPartSize, 5 * MiB);
      const size = 2 * partSize + 123;
      const want = await sha256Of(patternStream(size, 5));
      // Part boundaries of one deterministic stream: regenerate and slice, as a transfer resuming from an offset would.
      const part = (n: number) => {
        const start = (n - 1) * partSize;
        const length = Math.min(partSize, size - start);
        return { body: sliceOf(patternStream(size, 5), start, length), length };
      };
      let state: MultipartState = await driver.multipart.begin(key);
      const p1 = part(1);
      state = await driver.multipart.putPart(state, 1, p1.body, p1.length);
      const saved = JSON.parse(JSON.stringify(state)) as MultipartState; // what a heartbeat would carry

      const resumed = await target().open(); // "the worker crashed": a new process resumes
      try {
        let s = saved;
        for (const n of [2, 3]) {
          const p = part(n);
          s = await resumed.multipart.putPart(s, n, p.body, p.length);
        }
        const p2again = part(2); // a retried part replaces the first try
        s = await resumed.multipart.putPart(s, 2, p2again.body, p2again.length);
        expect(s.parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
        expect(await resumed.multipart.complete(s)).toEqual({ key, size });
        expect(await sha256Of(await resumed.get(key))).toBe(want);
      } finally {
        await resumed.close();
      }
    });

    it('accepts parts PUT by plain HTTP to part-upload URLs (how hosts upload without credentials)', async () => {
      const signPart = driver.multipart.partUploadUrl?.bind(driver.multipart);
      if (!signPart) return; // the backend cannot sign parts: hosts write to it another way (NFS: a mounted path)
      const key = `${prefix}host-push/disk.qcow2`;
      const partSize = Math.max(driver.multipart.minPartSize, 5 * MiB);
      const size = partSize + 4321;
      const whole = await bytesOf(patternStream(size, 9));
      let state: MultipartState = await driver.multipart.begin(key);
      for (const [n, body] of [whole.subarray(0, partSize), whole.subarray(partSize)].entries()) {
        const res = await fetch(await signPart(state, n + 1, 60), { method: 'PUT', body });
        expect(res.status, await res.text()).toBeLessThan(300);
        const etag = (res.headers.get('etag') ?? '').replace(/"/g, '');
        state = { ...state, parts: [...state.parts, { partNumber: n + 1, size: body.length, etag }] };
      }
      expect(await driver.multipart.complete(state)).toEqual({ key, size });
      expect(await sha256Of(await driver.get(key))).toBe(await sha256Of(Readable.from([whole])));
    });

    it('aborts uploads and cleans up abandoned ones', async () => {
      const aborted = await driver.multipart.begin(`${prefix}abort/one`);
      await driver.multipart.putPart(aborted, 1, patternStream(1000, 6), 1000);
      await driver.multipart.abort(aborted);
      const abandoned = await driver.multipart.begin(`${prefix}abandoned/two`);
      await driver.multipart.putPart(abandoned, 1, patternStream(1000, 7), 1000);
      const recent = await driver.multipart.begin(`${prefix}recent/three`);
      // Only uploads begun before the cut-off go; the one begun after stays.
      await new Promise((r) => setTimeout(r, 1100));
      const cutoff = new Date();
      await new Promise((r) => setTimeout(r, 1100));
      const fresh = await driver.multipart.begin(`${prefix}abandoned/fresh`);
      expect(await driver.multipart.abortAbandoned(`${prefix}abandoned/`, cutoff)).toBe(1);
      expect(await driver.multipart.abortAbandoned(`${prefix}abandoned/`, cutoff)).toBe(0);
      await driver.multipart.abort(fresh);
      await driver.multipart.abort(recent);
      expect(await driver.head(`${prefix}abandoned/two`)).toBeUndefined();
    });

    it('lists objects with their write time and uploads in progress with their start, by prefix', async () => {
      const before = Date.now() - 2000; // the backend's clock may lag ours a little, and keeps whole seconds
      const key = `${prefix}listed/object`;
      await driver.put(key, patternStream(500, 9), 500);
      const objects = [];
      for await (const o of driver.list(`${prefix}listed/`)) objects.push(o);
      expect(objects.map((o) => [o.key, o.size])).toEqual([[key, 500]]);
      expect(objects[0]!.modified.getTime()).toBeGreaterThan(before);
      expect(objects[0]!.modified.getTime()).toBeLessThan(Date.now() + 2000);

      const open = await driver.multipart.begin(`${prefix}uploads/open`);
      await driver.multipart.putPart(open, 1, patternStream(1000, 10), 1000);
      const elsewhere = await driver.multipart.begin(`${prefix}other/open`);
      const uploads = [];
      for await (const u of driver.multipart.listUploads(`${prefix}uploads/`)) uploads.push(u);
      expect(uploads.map((u) => [u.key, u.uploadId])).toEqual([[open.key, open.uploadId]]);
      expect(uploads[0]!.initiated.getTime()).toBeGreaterThan(before);
      // An upload in progress is not an object, and one listed can be aborted by its key and id alone.
      const listed = [];
      for await (const o of driver.list(`${prefix}uploads/`)) listed.push(o.key);
      expect(listed).toEqual([]);
      await driver.multipart.abort({ key: open.key, uploadId: open.uploadId, parts: [] });
      await driver.multipart.abort(elsewhere);
      const left = [];
      for await (const u of driver.multipart.listUploads(`${prefix}uploads/`)) left.push(u);
      expect(left).toEqual([]);
    });

    it('declares capabilities it keeps', async () => {
      const caps = target().provider.capabilities;
      if (caps.serverSideCopy) {
        const from = `${prefix}copy/from`;
        await driver.put(from, patternStream(2048, 8), 2048);
        expect(await driver.copy!(from, `${prefix}copy/to`)).toEqual({ key: `${prefix}copy/to`, size: 2048 });
        expect(await sha256Of(await driver.get(`${prefix}copy/to`))).toBe(await sha256Of(patternStream(2048, 8)));
      }
      const capacity = await driver.capacity();
      if (caps.reportsCapacity) expect(capacity.usedBytes).toBeGreaterThanOrEqual(0);
    });
  });
}

/** The URL with its signature changed by one character. */
function tampered(url: string): string {
  const u = new URL(url);
  const name = ['X-Amz-Signature', 'temp_url_sig', 'signature'].find((n) => u.searchParams.has(n));
  if (!name) throw new Error(`no signature in ${url}`);
  const sig = u.searchParams.get(name)!;
  u.searchParams.set(name, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  return u.toString();
}

/** `length` bytes from `start` of a stream, as a stream. */
function sliceOf(source: Readable, start: number, length: number): Readable {
  return Readable.from(
    (async function* () {
      let offset = 0;
      let left = length;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const from = Math.max(0, start - offset);
        offset += chunk.length;
        if (from >= chunk.length) continue;
        const piece = chunk.subarray(from, from + left);
        left -= piece.length;
        yield piece;
        if (left === 0) break;
      }
    })(),
  );
}
