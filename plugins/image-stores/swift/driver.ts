// The Swift driver over plain HTTP (fetch with streamed bodies). Large objects are SLO manifests over segments kept
// in "<container>_segments"; an upload in progress leaves a marker there so abandoned ones can be found and removed.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  StoreCheckError,
  type ImageStoreDriver,
  type ObjectInfo,
  type OpenUpload,
  type StoreConfig,
} from '../contract';
import { required } from '../details';
import { withPart } from '../multipart-state';
import { manifestUsesUpload, uploadSegmentPrefix } from './manifest';

interface Session {
  storageUrl: string;
  token: string;
}

const encodePath = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** Where part `n` of an upload waits in the segments container until the SLO manifest stitches it in. */
const segmentName = (key: string, uploadId: string, partNumber: number) =>
  `${key}/${uploadId}/${String(partNumber).padStart(8, '0')}`;

export function openSwiftDriver(config: StoreConfig): ImageStoreDriver {
  const { authurl, account, username, container } = required(config.settings, [
    'authurl',
    'account',
    'username',
    'container',
  ]);
  const { key: secretKey } = required(config.secrets, ['key']);
  const segments = `${container}_segments`;
  let session: Session | undefined;
  let tempUrlKey: string | undefined;

  async function authenticate(): Promise<Session> {
    let res: Response;
    try {
      res = await fetch(authurl, { headers: { 'X-Auth-User': `${account}:${username}`, 'X-Auth-Key': secretKey } });
    } catch (err) {
      throw new StoreCheckError('unreachable', `Swift at ${authurl} cannot be reached: ${causeOf(err)}`);
    }
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      throw new StoreCheckError(
        'credentials',
        `Swift at ${authurl} refused the credentials of ${account}:${username}.`,
      );
    }
    const storageUrl = res.headers.get('x-storage-url');
    const token = res.headers.get('x-auth-token');
    if (!res.ok || !storageUrl || !token) {
      throw new StoreCheckError('unreachable', `Swift at ${authurl} answered HTTP ${res.status} without a token.`);
    }
    return { storageUrl, token };
  }

  /** One request to the account; re-authenticates once if the token expired. */
  async function call(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: Readable | string; query?: string } = {},
  ) {
    for (let attempt = 0; ; attempt++) {
      session ??= await authenticate();
      const url = `${session.storageUrl}${path ? `/${path}` : ''}${init.query ? `?${init.query}` : ''}`;
      const body = init.body instanceof Readable ? (Readable.toWeb(init.body) as ReadableStream) : init.body;
      const res = await fetch(url, {
        method,
        headers: { 'X-Auth-Token': session.token, ...init.headers },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
      if (res.status === 401 && attempt === 0 && !(init.body instanceof Readable)) {
        await res.body?.cancel();
        session = undefined;
        continue;
      }
      return res;
    }
  }

  async function expectOk(res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    const text = (await res.text()).slice(0, 200);
    throw new Error(`Swift ${what} failed: HTTP ${res.status} ${text}`);
  }

  const objectPath = (key: string) => `${encodeURIComponent(container)}/${encodePath(key)}`;

  async function head(key: string): Promise<ObjectInfo | undefined> {
    const res = await call('HEAD', objectPath(key));
    if (res.status === 404) return undefined;
    await expectOk(res, `HEAD ${key}`);
    return { key, size: Number(res.headers.get('content-length') ?? 0) };
  }

  async function ensureSegmentsContainer() {
    await expectOk(await call('PUT', encodeURIComponent(segments)), `create container ${segments}`);
  }

  async function* listContainer(
    name: string,
    prefix: string,
  ): AsyncIterable<{ name: string; bytes: number; last_modified: string }> {
    let marker = '';
    for (;;) {
      const query = new URLSearchParams({ format: 'json', prefix, marker }).toString();
      const res = await call('GET', encodeURIComponent(name), { query });
      if (res.status === 404) return;
      const page = (await (await expectOk(res, `list ${name}`)).json()) as {
        name: string;
        bytes: number;
        last_modified: string;
      }[];
      if (page.length === 0) return;
      yield* page;
      marker = page[page.length - 1]!.name;
    }
  }

  async function deleteSegments(key: string, uploadId: string) {
    for await (const s of listContainer(segments, `${key}/${uploadId}/`)) {
      await call('DELETE', `${encodeURIComponent(segments)}/${encodePath(s.name)}`).then((r) => r.body?.cancel());
    }
    await call('DELETE', `${encodeURIComponent(segments)}/${encodePath(`.pending/${uploadId}`)}`).then((r) =>
      r.body?.cancel(),
    );
  }

  /**
   * Aborts an upload unless it is in fact complete: an object at its key that is an SLO manifest over its segments
   * (a completion that raced the abort, or a stale view of the upload) keeps them; only the marker goes.
   */
  async function abortUpload(key: string, uploadId: string) {
    const res = await call('GET', objectPath(key), { query: 'multipart-manifest=get' });
    if (res.status !== 404) {
      await expectOk(res, `GET manifest ${key}`);
      // On a plain object `multipart-manifest=get` returns its bytes: those are not read.
      const isManifest = res.headers.get('x-static-large-object')?.toLowerCase() === 'true';
      if (!isManifest) await res.body?.cancel();
      const manifest: unknown = isManifest ? await res.json() : undefined;
      if (manifestUsesUpload(manifest, uploadSegmentPrefix(segments, key, uploadId))) {
        await call('DELETE', `${encodeURIComponent(segments)}/${encodePath(`.pending/${uploadId}`)}`).then((r) =>
          r.body?.cancel(),
        );
        return;
      }
    }
    await deleteSegments(key, uploadId);
  }

  /** Uploads in progress are the markers begin() leaves in the segments container (its key and start on each). */
  async function* listUploads(prefix: string): AsyncIterable<OpenUpload> {
    for await (const marker of listContainer(segments, '.pending/')) {
      const res = await call('HEAD', `${encodeURIComponent(segments)}/${encodePath(marker.name)}`);
      await res.body?.cancel();
      if (!res.ok) continue; // completed or aborted since the listing
      const key = decodeURIComponent(res.headers.get('x-object-meta-ferry-key') ?? '');
      if (!key.startsWith(prefix)) continue;
      const initiated = new Date(Number(res.headers.get('x-timestamp') ?? 0) * 1000);
      yield { key, uploadId: marker.name.slice('.pending/'.length), initiated };
    }
  }

  async function accountTempUrlKey(): Promise<string> {
    if (tempUrlKey) return tempUrlKey;
    const res = await expectOk(await call('HEAD', ''), 'HEAD account');
    tempUrlKey = res.headers.get('x-account-meta-temp-url-key') ?? undefined;
    if (!tempUrlKey) {
      // As CloudStack does: give the account a Temp-URL key the first time an expiring URL is needed.
      const key = randomBytes(24).toString('base64url');
      await expectOk(await call('POST', '', { headers: { 'X-Account-Meta-Temp-URL-Key': key } }), 'set Temp-URL key');
      tempUrlKey = key;
    }
    return tempUrlKey;
  }

  /** A Temp URL (tempurl middleware): `method` on one object until it expires, no token needed. */
  async function tempUrl(method: 'GET' | 'PUT', inContainer: string, key: string, seconds: number): Promise<string> {
    session ??= await authenticate();
    const expires = Math.floor(Date.now() / 1000) + seconds;
    const path = `${new URL(session.storageUrl).pathname}/${inContainer}/${key}`;
    const sig = createHmac('sha1', await accountTempUrlKey())
      .update(`${method}\n${expires}\n${path}`)
      .digest('hex');
    const objectUrl = `${session.storageUrl}/${encodeURIComponent(inContainer)}/${encodePath(key)}`;
    return `${objectUrl}?temp_url_sig=${sig}&temp_url_expires=${expires}`;
  }

  return {
    async check() {
      session = await authenticate();
      const res = await call('HEAD', encodeURIComponent(container));
      if (res.status === 404) {
        throw new StoreCheckError(
          'missing-container',
          `Swift container ${container} does not exist in account ${account}; create it first.`,
        );
      }
      if (res.status === 401 || res.status === 403) {
        throw new StoreCheckError('credentials', `Swift refused access to container ${container}.`);
      }
      await expectOk(res, `HEAD container ${container}`);
    },

    async capacity() {
      const res = await expectOk(await call('HEAD', ''), 'HEAD account');
      const used = res.headers.get('x-account-bytes-used');
      const quota = res.headers.get('x-account-meta-quota-bytes');
      return { usedBytes: used ? Number(used) : undefined, totalBytes: quota ? Number(quota) : undefined };
    },

    async put(key, body, size) {
      const headers: Record<string, string> =
        size === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(size) };
      await expectOk(await call('PUT', objectPath(key), { body, headers }), `PUT ${key}`);
      return (await head(key))!;
    },

    async get(key, range) {
      const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
      const res = await expectOk(await call('GET', objectPath(key), { headers }), `GET ${key}`);
      return Readable.fromWeb(res.body as WebReadableStream);
    },

    head,

    async delete(key) {
      // An SLO manifest goes with its segments (multipart-manifest=delete); a plain object is simply deleted.
      const found = await call('HEAD', objectPath(key));
      if (found.status === 404) return;
      const isManifest = found.headers.get('x-static-large-object')?.toLowerCase() === 'true';
      const res = await call('DELETE', objectPath(key), isManifest ? { query: 'multipart-manifest=delete' } : {});
      await res.body?.cancel();
      if (!res.ok && res.status !== 404) throw new Error(`Swift DELETE ${key} failed: HTTP ${res.status}`);
    },

    async *list(prefix) {
      for await (const o of listContainer(container, prefix)) {
        yield { key: o.name, size: o.bytes, modified: swiftTime(o.last_modified) };
      }
    },

    expiringUrl: (key, seconds) => tempUrl('GET', container, key, seconds),

    async copy(fromKey, toKey) {
      const headers = { 'X-Copy-From': `/${objectPath(fromKey)}`, 'Content-Length': '0' };
      await expectOk(await call('PUT', objectPath(toKey), { headers }), `COPY ${fromKey}`);
      return (await head(toKey))!;
    },

    multipart: {
      minPartSize: 1,
      async begin(key) {
        await ensureSegmentsContainer();
        const uploadId = randomUUID();
        const marker = `${encodeURIComponent(segments)}/${encodePath(`.pending/${uploadId}`)}`;
        const headers = { 'Content-Length': '0', 'X-Object-Meta-Ferry-Key': encodeURIComponent(key) };
        await expectOk(await call('PUT', marker, { headers }), 'begin upload');
        return { key, uploadId, parts: [] };
      },
      partUploadUrl: (state, partNumber, seconds) =>
        tempUrl('PUT', segments, segmentName(state.key, state.uploadId, partNumber), seconds),
      async putPart(state, partNumber, body, size) {
        const name = segmentName(state.key, state.uploadId, partNumber);
        const res = await expectOk(
          await call('PUT', `${encodeURIComponent(segments)}/${encodePath(name)}`, {
            body,
            headers: { 'Content-Length': String(size) },
          }),
          `PUT segment ${partNumber}`,
        );
        return withPart(state, { partNumber, size, etag: (res.headers.get('etag') ?? '').replace(/"/g, '') });
      },
      async complete(state) {
        const manifest = state.parts.map((p) => ({
          path: `/${segments}/${segmentName(state.key, state.uploadId, p.partNumber)}`,
          etag: p.etag,
          size_bytes: p.size,
        }));
        await expectOk(
          await call('PUT', objectPath(state.key), { query: 'multipart-manifest=put', body: JSON.stringify(manifest) }),
          'complete upload',
        );
        await call('DELETE', `${encodeURIComponent(segments)}/${encodePath(`.pending/${state.uploadId}`)}`).then((r) =>
          r.body?.cancel(),
        );
        return (await head(state.key))!;
      },
      abort: (state) => abortUpload(state.key, state.uploadId),
      listUploads,
      async abortAbandoned(prefix, olderThan) {
        let aborted = 0;
        for await (const u of listUploads(prefix)) {
          if (u.initiated >= olderThan) continue;
          await abortUpload(u.key, u.uploadId);
          aborted++;
        }
        return aborted;
      },
    },

    close: () => Promise.resolve(),
  };
}

/** Swift lists times in UTC without saying so. */
const swiftTime = (text: string) => new Date(Date.parse(`${text}Z`));

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
