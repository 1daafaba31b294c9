// The probes' HTTP face, the same on the API and on each worker: GET /healthz (alive: 200 whenever the process can
// answer) and GET /readyz (200 when every dependency answers and the process is not draining, else 503), both JSON.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readiness } from '../core/readiness';

/** Answers /healthz and /readyz; false for any other path (the caller serves it). */
export function serveHealth(readiness: Readiness, req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz') return false;
  const reply = (status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(405, { status: 'use GET' });
    return true;
  }
  if (path === '/healthz') {
    reply(200, { status: 'alive' });
    return true;
  }
  readiness.report().then(
    (report) => reply(report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', ...report }),
    (err: Error) => reply(503, { status: 'not ready', ready: false, checks: { readiness: err.message } }),
  );
  return true;
}

/** A server that answers only the probes (a worker's, which has no other HTTP face). */
export function createHealthServer(readiness: Readiness): Server {
  return createServer((req, res) => {
    if (!serveHealth(readiness, req, res)) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ status: 'this port answers /healthz and /readyz' }));
    }
  });
}
