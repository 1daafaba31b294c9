// The HTTP face of the API: /client/api over GET (query) or POST (form body), JSON out.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { DownloadLinks } from '../core/download-links';
import type { Readiness } from '../core/readiness';
import { serveHealth } from '../net/health-endpoints';
import { dispatch, type DispatcherDeps } from './dispatcher';
import { serveDownload } from './download';
import { descriptionHeader, ErrorCode } from './errors';

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

/** The errortext of a `{<command>response: {errortext}}` body, if it is one. */
function errorTextOf(body: Record<string, unknown>): string | undefined {
  const inner = Object.values(body)[0] as { errortext?: unknown } | undefined;
  return typeof inner?.errortext === 'string' ? inner.errortext : undefined;
}

export function createApiServer(deps: DispatcherDeps & { links: DownloadLinks; readiness: Readiness }): Server {
  return createServer((req, res) => {
    if (serveHealth(deps.readiness, req, res)) return;
    const send = (status: number, body: Record<string, unknown>) => {
      const text = status >= 400 ? errorTextOf(body) : undefined;
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        // CloudStack describes every error in this header too; CloudMonkey prints it as the error line.
        ...(text === undefined ? {} : { 'x-description': descriptionHeader(text) }),
      });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, errorcode: number, errortext: string) =>
      send(status, { errorresponse: { errorcode, cserrorcode: 9999, errortext } });
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://ferry');
    } catch {
      return error(400, ErrorCode.MalformedParameter, 'the request URL is malformed');
    }
    if (url.pathname === '/download' && req.method === 'GET') {
      serveDownload(deps, req, res, url).catch((err: Error) => {
        deps.log(`download failed: ${err.message}`);
        if (!res.headersSent) error(502, 534, 'the store could not be read');
        else res.destroy();
      });
      return;
    }
    if (url.pathname !== '/client/api' && url.pathname !== '/client/api/') {
      return error(404, 404, 'Ferry answers on /client/api');
    }
    if (req.method !== 'GET' && req.method !== 'POST') return error(405, 405, 'use GET or POST');
    // Sent twice, the header's values are joined with ", ", which no key may contain: refused, not guessed.
    const header = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(header) ? header.join(', ') : header;
    readParams(req, url)
      .then((params) => dispatch(deps, params, { idempotencyKey }))
      .then((reply) => send(reply.status, reply.body))
      .catch((err: Error) => {
        if (res.headersSent) return void res.destroy();
        // The rest of an unread body would be taken for the next request: this connection ends with the answer.
        res.setHeader('connection', 'close');
        error(ErrorCode.MalformedParameter, ErrorCode.MalformedParameter, err.message);
      });
  });
}
