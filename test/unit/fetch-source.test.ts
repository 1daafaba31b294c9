// openSource against HTTP servers of its own on loopback: what it connects to, what it refuses without connecting, and
// what it says (nothing of what an internal site answered). Names resolve through a stub; nothing leaves loopback.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notAllowed, parseSiteList, type Resolver, type UrlPolicy } from '../../core/url-policy';
import { openSource } from '../../net/fetch-source';

interface Site {
  server: Server;
  url: string;
  port: number;
  /** Connections it accepted and the Host header of each request. */
  connections: number;
  hosts: string[];
}

async function site(address: string, handle: RequestListener): Promise<Site> {
  const s = { connections: 0, hosts: [] as string[] } as Site;
  s.server = createServer((req, res) => {
    s.hosts.push(req.headers.host ?? '');
    handle(req, res);
  });
  s.server.on('connection', () => s.connections++);
  await new Promise<void>((resolve) => s.server.listen(0, address, resolve));
  s.port = (s.server.address() as AddressInfo).port;
  s.url = `http://${address}:${s.port}`;
  return s;
}

let image: Site;
let service: Site;
let redirector: Site;
let silent: Site;
let pinned: Site;
let closedPort: number;

const resolve: Resolver = (host) => Promise.resolve(host === 'localhost' ? ['127.0.0.2'] : []);
const policy = (allowed: string, denied = ''): UrlPolicy => ({
  allowed: parseSiteList(allowed),
  denied: parseSiteList(denied),
});

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(async () => {
  image = await site('127.0.0.1', (req, res) => {
    if (req.url === '/sample.raw') res.writeHead(200, { 'content-length': '5' }).end('bytes');
    else res.writeHead(404).end('no such file on the internal service');
  });
  service = await site('127.0.0.1', (_req, res) => res.writeHead(200).end('secret of another tenant'));
  redirector = await site('127.0.0.1', (req, res) => {
    const to = req.url === '/to-service' ? `${service.url}/backup` : `${image.url}/sample.raw`;
    res.writeHead(302, { location: to }).end();
  });
  silent = await site('127.0.0.1', () => undefined); // accepts, never answers
  pinned = await site('127.0.0.2', (_req, res) => res.writeHead(200).end('pinned'));
  const closed = await site('127.0.0.1', () => undefined);
  closedPort = closed.port;
  await new Promise((r) => closed.server.close(r));
});

afterAll(async () => {
  for (const s of [image, service, redirector, silent, pinned]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

describe('openSource', () => {
  it('reads an allowed internal site, its length and body', async () => {
    const res = await openSource(`${image.url}/sample.raw`, policy(`127.0.0.1/32:${image.port}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('5');
    expect(await res.text()).toBe('bytes');
  });

  it('refuses a denied service whatever the allow-list says, without connecting to it', async () => {
    const before = service.connections;
    const url = `${service.url}/backup`;
    const err = await failure(openSource(url, policy('127.0.0.0/8', `127.0.0.1:${service.port}`)));
    expect(err.type).toBe('UrlRefused');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe(notAllowed(url).message);
    expect(service.connections).toBe(before);
  });

  it('refuses a redirect into a denied or not allowed site the same way, naming only the URL given', async () => {
    const before = service.connections;
    const url = `${redirector.url}/to-service`;
    const denied = await failure(openSource(url, policy('127.0.0.0/8', `127.0.0.1:${service.port}`)));
    const notListed = await failure(openSource(url, policy(`127.0.0.1:${redirector.port}`)));
    for (const err of [denied, notListed]) {
      expect(err.type).toBe('UrlRefused');
      expect(err.message).toBe(notAllowed(url).message);
      expect(err.message).not.toContain(String(service.port));
    }
    expect(service.connections).toBe(before);
    // A redirect to an allowed site is followed.
    const ok = await openSource(`${redirector.url}/to-image`, policy('127.0.0.1'));
    expect(await ok.text()).toBe('bytes');
  });

  it('does not repeat what an internal site answered: no status, no connection error', async () => {
    const missing = await failure(openSource(`${image.url}/nope.qcow2`, policy('127.0.0.1')));
    expect(missing.type).toBe('SourceNotFound');
    const refused = await failure(openSource(`http://127.0.0.1:${closedPort}/x`, policy('127.0.0.1')));
    expect(refused.type).toBe('SourceUnavailable');
    expect(refused.nonRetryable).toBe(false);
    const hanging = await failure(openSource(`${silent.url}/x`, policy('127.0.0.1'), { headersTimeoutMs: 300 }));
    expect(hanging.type).toBe('SourceUnavailable');
    for (const err of [missing, refused, hanging]) {
      expect(err.message).toMatch(/cannot be fetched; check the URL/);
      expect(err.message).not.toMatch(/404|HTTP|ECONNREFUSED|answered|within|internal service/);
    }
    // The two failures say the same sentence, so the text tells a 404 from a closed port no more than it must.
    expect(missing.message.replace(`${image.url}/nope.qcow2`, 'URL')).toBe(
      refused.message.replace(`http://127.0.0.1:${closedPort}/x`, 'URL'),
    );
  });

  it('connects to the addresses it judged, not to a second lookup of the name', async () => {
    // The stub says localhost is 127.0.0.2 (where the site listens); the system would say 127.0.0.1.
    const res = await openSource(`http://localhost:${pinned.port}/`, policy('127.0.0.0/8'), { resolve });
    expect(await res.text()).toBe('pinned');
    expect(pinned.hosts.at(-1)).toBe(`localhost:${pinned.port}`);
  });

  it('takes a bare allow-list as a policy without a deny-list (callers not yet passing both)', async () => {
    const res = await openSource(`${image.url}/sample.raw`, parseSiteList('127.0.0.1'));
    expect(await res.text()).toBe('bytes');
  });
});
