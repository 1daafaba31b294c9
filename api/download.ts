// GET /download?store=&key=&expires=&signature=: streams an object of a store that cannot make its own URLs
// (NFS), honouring one byte range. The link is the only credential, so it is checked before anything is touched.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eq } from 'drizzle-orm';
import type { DownloadLinks } from '../core/download-links';
import { imageStores } from '../db/schema';
import { openImageStore } from '../plugins/image-stores/registry';
import type { DispatcherDeps } from './dispatcher';
import { descriptionHeader } from './errors';

export async function serveDownload(
  deps: DispatcherDeps & { links: DownloadLinks },
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const fail = (status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-description': descriptionHeader(text) });
    res.end(text + '\n');
  };
  const link = deps.links.verify(url.searchParams);
  if (!link) return fail(403, 'this download link is invalid or has expired');
  const [store] = await deps.db.select().from(imageStores).where(eq(imageStores.id, link.storeId));
  if (!store) return fail(404, 'no such object');
  const driver = openImageStore(store, deps.secrets, deps.storeServices);
  try {
    const object = await driver.head(link.key);
    if (!object) return fail(404, 'no such object');
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      // Only plain characters in a header, whatever the key holds.
      'content-disposition': `attachment; filename="${posix.basename(link.key).replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'accept-ranges': 'bytes',
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, object.size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), object.size - 1) : object.size - 1;
      if (start > end || start >= object.size) {
        res.writeHead(416, {
          'content-range': `bytes */${object.size}`,
          'x-description': 'the requested range is outside the object',
        });
        return void res.end();
      }
      res.writeHead(206, {
        ...headers,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${object.size}`,
      });
      await pipeline(await driver.get(link.key, { start, end }), res);
    } else {
      res.writeHead(200, { ...headers, 'content-length': object.size });
      await pipeline(await driver.get(link.key), res);
    }
  } finally {
    await driver.close();
  }
}
