// The HTTP face of the API: /client/api over GET (query) or POST (form body), JSON out.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { DownloadLinks } from '../core/download-links';
import { dispatch, type DispatcherDeps } from './dispatcher';
import { serveDownload } from './download';

const MAX_BODY = 1 << 20;

async function readParams(req: IncomingMessage, url: URL): Promise<Map<string, string>> {
  const params = new Map<string, string>();
  const add = (search: URLSearchParams) => {
    for (const [k, v] of search) if (!params.has(k)) params.set(k, v);
  };
  add(url.searchParams);
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new Error('request body too large');
      chunks.push(chunk);
    }
    add(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  }
  return params;
}

export function createApiServer(deps: DispatcherDeps & { links: DownloadLinks }): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ferry');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/download' && req.method === 'GET') {
      serveDownload(deps, req, res, url).catch((err: Error) => {
        deps.log(`download failed: ${err.message}`);
        if (!res.headersSent)
          send(502, { errorresponse: { errorcode: 534, errortext: 'the store could not be read' } });
        else res.destroy();
      });
      return;
    }
    if (url.pathname !== '/client/api' && url.pathname !== '/client/api/') {
      return send(404, { errorresponse: { errorcode: 404, errortext: 'Ferry answers on /client/api' } });
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      return send(405, { errorresponse: { errorcode: 405, errortext: 'use GET or POST' } });
    }
    // Sent twice, the header's values are joined with ", ", which no key may contain: refused, not guessed.
    const header = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(header) ? header.join(', ') : header;
    readParams(req, url)
      .then((params) => dispatch(deps, params, { idempotencyKey }))
      .then((reply) => send(reply.status, reply.body))
      .catch((err: Error) =>
        send(430, { errorresponse: { errorcode: 430, cserrorcode: 9999, errortext: err.message } }),
      );
  });
}
