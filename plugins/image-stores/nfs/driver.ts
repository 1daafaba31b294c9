// The NFS driver: files under the export, reached over SSH (SFTP streams for bytes, argv-only commands for the rest).
// Writes go to a temporary name and are renamed into place, so a reader never sees half an object.
import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SFTPWrapper } from 'ssh2';
import { HostAuthenticationError, HostKeyMismatchError, HostUnreachableError } from '../../../ssh/errors';
import type { HostConnection, HostEndpoint } from '../../../ssh/executor';
import {
  StoreCheckError,
  type ImageStoreDriver,
  type MultipartState,
  type ObjectInfo,
  type OpenUpload,
  type ProviderServices,
  type StoreConfig,
} from '../contract';
import { required } from '../details';
import { withPart } from '../multipart-state';

const UPLOADS = '.ferry-uploads';

/** Object keys are relative paths: no "..", no absolute paths, nothing that escapes the export. */
function checkKey(key: string): string {
  if (
    !key ||
    key.startsWith('/') ||
    key.includes('\0') ||
    posix.normalize(key) !== key ||
    key.startsWith('..') ||
    key.startsWith(UPLOADS)
  ) {
    throw new Error(`invalid object key ${JSON.stringify(key)}`);
  }
  return key;
}

export function openNfsDriver(config: StoreConfig, storeId: string, services: ProviderServices): ImageStoreDriver {
  const s = required(config.settings, ['sshaddress', 'sshport', 'sshuser', 'hostkeyfingerprint', 'mountpath']);
  const endpoint: HostEndpoint = {
    address: s.sshaddress,
    port: Number(s.sshport),
    username: s.sshuser,
    hostKeyFingerprint: s.hostkeyfingerprint,
    credential: { kind: 'ferry-key' },
  };
  const root = s.mountpath;
  const pathOf = (key: string) => `${root}/${checkKey(key)}`;
  let connection: Promise<HostConnection> | undefined;

  async function host(): Promise<HostConnection> {
    const current = connection ? await connection.catch(() => undefined) : undefined;
    if (current?.open) return current;
    connection = services.ssh.connect(endpoint);
    return connection;
  }

  async function run(argv: string[]): Promise<string> {
    const result = await (await host()).run(argv);
    if (result.exitCode !== 0) throw new Error(`${argv[0]} failed on ${endpoint.address}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  const sftp = async (): Promise<SFTPWrapper> => (await host()).sftp();

  async function stat(path: string): Promise<number | undefined> {
    const sf = await sftp();
    return new Promise((resolve, reject) =>
      sf.stat(path, (err, st) => {
        if (!err) return resolve(st.size);
        if ((err as { code?: number }).code === 2) return resolve(undefined); // SSH_FX_NO_SUCH_FILE
        reject(err);
      }),
    );
  }

  /** Streams a body into a file at `path` (created with its directories) and returns the bytes written. */
  async function writeFile(path: string, body: Readable): Promise<void> {
    await run(['mkdir', '-p', '--', posix.dirname(path)]);
    const out = (await sftp()).createWriteStream(path, { flags: 'w', mode: 0o644 });
    await pipeline(body, out);
  }

  async function rename(from: string, to: string) {
    await run(['mv', '-f', '--', from, to]);
  }

  async function info(key: string): Promise<ObjectInfo | undefined> {
    const size = await stat(pathOf(key));
    return size === undefined ? undefined : { key, size };
  }

  const uploadDir = (uploadId: string) => `${root}/${UPLOADS}/${uploadId}`;
  const partPath = (uploadId: string, n: number) => `${uploadDir(uploadId)}/${String(n).padStart(8, '0')}`;

  /** Each upload in progress is a directory of parts with a `key` file written when it began. */
  async function* listUploads(prefix: string): AsyncIterable<OpenUpload> {
    const result = await (
      await host()
    ).run(['find', `${root}/${UPLOADS}`, '-mindepth', '2', '-maxdepth', '2', '-name', 'key', '-printf', '%h\\t%T@\\n']);
    if (result.exitCode !== 0) return; // no upload ever began here
    for (const line of result.stdout.split('\n')) {
      const [dir, mtime] = line.split('\t');
      if (!dir) continue;
      const key = await run(['cat', '--', `${dir}/key`]).catch(() => undefined); // finished since the listing
      if (key === undefined || !key.startsWith(prefix)) continue;
      yield { key, uploadId: posix.basename(dir), initiated: new Date(Number(mtime) * 1000) };
    }
  }

  return {
    async check() {
      try {
        const result = await (await host()).run(['test', '-d', root, '-a', '-w', root]);
        if (result.exitCode !== 0) {
          throw new StoreCheckError(
            'missing-container',
            `NFS export is not mounted (or not writable) at ${root} on ${endpoint.address}.`,
          );
        }
      } catch (err) {
        if (err instanceof StoreCheckError) throw err;
        if (err instanceof HostKeyMismatchError) throw new StoreCheckError('credentials', err.message);
        if (err instanceof HostAuthenticationError) throw new StoreCheckError('credentials', err.message);
        if (err instanceof HostUnreachableError)
          throw new StoreCheckError('unreachable', `NFS SSH endpoint ${err.message}`);
        throw err;
      }
    },

    async capacity() {
      const out = await run(['df', '-B1', '--output=size,used', '--', root]);
      const [total, used] = (out.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(Number);
      return { totalBytes: total, usedBytes: used };
    },

    async put(key, body) {
      const target = pathOf(key);
      const temp = `${target}.ferry-tmp-${randomUUID()}`;
      try {
        await writeFile(temp, body);
        await rename(temp, target);
      } catch (err) {
        await run(['rm', '-f', '--', temp]).catch(() => undefined);
        throw err;
      }
      return (await info(key))!;
    },

    async get(key, range) {
      const path = pathOf(key);
      if ((await stat(path)) === undefined) throw new Error(`no object ${key} on NFS store`);
      const stream = (await sftp()).createReadStream(path, range ? { start: range.start, end: range.end } : {});
      // A reader that stops early and closes the driver leaves a read pending; its "connection closed" error must not
      // crash the process. Readers that consume the stream still get every error through their own listeners.
      stream.on('error', () => undefined);
      return stream;
    },

    head: info,

    async delete(key) {
      await run(['rm', '-f', '--', pathOf(key)]);
    },

    async *list(prefix) {
      // Search from the deepest directory the prefix names, then filter by the whole prefix.
      const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const start = dir ? pathOf(dir) : root;
      const result = await (await host()).run(['find', start, '-type', 'f', '-printf', '%P\\t%s\\t%T@\\n']);
      if (result.exitCode !== 0) return; // nothing there yet
      for (const line of result.stdout.split('\n')) {
        const [rel, size, mtime] = line.split('\t');
        if (!rel) continue;
        const key = dir ? `${dir}/${rel}` : rel;
        if (key.startsWith(prefix) && !key.startsWith(UPLOADS) && !key.includes('.ferry-tmp-'))
          yield { key, size: Number(size), modified: new Date(Number(mtime) * 1000) };
      }
    },

    expiringUrl: (key, seconds) => Promise.resolve(services.signedDownloadUrl(storeId, checkKey(key), seconds)),

    async copy(fromKey, toKey) {
      const target = pathOf(toKey);
      const temp = `${target}.ferry-tmp-${randomUUID()}`;
      await run(['mkdir', '-p', '--', posix.dirname(target)]);
      await run(['cp', '--reflink=auto', '--', pathOf(fromKey), temp]);
      await rename(temp, target);
      return (await info(toKey))!;
    },

    multipart: {
      minPartSize: 1,
      async begin(key) {
        const uploadId = randomUUID();
        await run(['mkdir', '-p', '--', uploadDir(uploadId)]);
        await run(['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', checkKey(key), `${uploadDir(uploadId)}/key`]);
        return { key, uploadId, parts: [] };
      },
      async putPart(state, partNumber, body, size) {
        const path = partPath(state.uploadId, partNumber);
        await writeFile(path, body);
        const written = await stat(path);
        if (written !== size) throw new Error(`part ${partNumber} has ${written} bytes, expected ${size}`);
        return withPart(state, { partNumber, size, etag: String(size) });
      },
      async complete(state: MultipartState) {
        const target = pathOf(state.key);
        const temp = `${target}.ferry-tmp-${randomUUID()}`;
        const parts = state.parts.map((p) => partPath(state.uploadId, p.partNumber));
        await run(['mkdir', '-p', '--', posix.dirname(target)]);
        await run(['sh', '-c', 'out=$1; shift; cat -- "$@" > "$out"', 'sh', temp, ...parts]);
        await rename(temp, target);
        await run(['rm', '-rf', '--', uploadDir(state.uploadId)]);
        return (await info(state.key))!;
      },
      async abort(state) {
        await run(['rm', '-rf', '--', uploadDir(state.uploadId)]);
      },
      listUploads,
      async abortAbandoned(prefix, olderThan) {
        let aborted = 0;
        for await (const u of listUploads(prefix)) {
          if (u.initiated >= olderThan) continue;
          await run(['rm', '-rf', '--', uploadDir(u.uploadId)]);
          aborted++;
        }
        return aborted;
      },
    },

    async close() {
      const current = connection ? await connection.catch(() => undefined) : undefined;
      current?.close();
    },
  };
}
