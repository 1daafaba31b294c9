// The deny-list of Ferry's own services as built from endpoints, and the policy on a new store's endpoints.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../temporal.config';
import { denyListOf } from '../../planning/download-policy';
import { checkStoreEndpoints, storeEndpointUrls } from '../../planning/store-endpoint-policy';
import { UrlRefused } from '../../core/url-policy';

const at = (address: string, port: number, hostname = address) => ({ hostname, address, port });
const names: Record<string, string[]> = { 's3.internal': ['10.0.0.5'], localhost: ['127.0.0.1', '::1'] };
const resolve = (host: string) => Promise.resolve(names[host] ?? []);

describe('the deny-list of endpoints', () => {
  it('makes a loopback endpoint stand for every loopback address (and 0.0.0.0) on its port', () => {
    const list = denyListOf(['127.0.0.1:8888', 'localhost:7233', '[0:0:0:0:0:0:0:1]:9000'], []);
    expect(list.matches(at('127.0.0.1', 9000))).toBe(true);
    for (const t of [at('127.0.0.1', 8888), at('127.1.2.3', 8888), at('::1', 8888), at('0.0.0.0', 8888)]) {
      expect(list.matches(t), JSON.stringify(t)).toBe(true);
    }
    expect(list.matches(at('127.0.0.1', 7233))).toBe(true);
    expect(list.matches(at('127.0.0.1', 8889))).toBe(false);
    expect(list.matches(at('10.0.0.1', 8888))).toBe(false);
  });

  it('makes a wildcard endpoint stand for every address of the machine too', () => {
    const list = denyListOf(['0.0.0.0:8080'], ['192.168.7.7', 'fe80::1']);
    for (const a of ['127.0.0.1', '192.168.7.7', 'fe80::1', '::1']) expect(list.matches(at(a, 8080)), a).toBe(true);
    expect(list.matches(at('192.168.7.8', 8080))).toBe(false);
  });

  it('keeps other endpoints, CIDRs and comma-separated lists as they are', () => {
    const list = denyListOf(['10.0.0.5:8333', '[fd00::5]:8090', '172.16.0.0/12:5432', 'a.internal:1, 10.9.9.9'], []);
    expect(list.matches(at('10.0.0.5', 8333))).toBe(true);
    expect(list.matches(at('10.0.0.6', 8333))).toBe(false);
    expect(list.matches(at('fd00::5', 8090))).toBe(true);
    expect(list.matches(at('172.20.0.1', 5432))).toBe(true);
    expect(list.matches(at('10.0.0.1', 1, 'a.internal'))).toBe(true);
    expect(list.matches(at('10.9.9.9', 4242))).toBe(true);
  });

  it("takes Ferry's own endpoints from its configuration", () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://ferry:x@127.0.0.1:5433/ferry',
      FERRY_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      FERRY_API_PORT: '8080',
      FERRY_PUBLIC_URL: 'https://cloud.example.org/ferry',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      FERRY_SERVICE_ENDPOINTS: '127.0.0.1:8233, 10.0.0.0/24:8888',
    });
    expect(config.ownEndpoints).toEqual([
      '127.0.0.1:8080',
      'cloud.example.org:443',
      'temporal.internal:7233',
      '127.0.0.1:5433',
    ]);
    expect(config.serviceEndpoints).toEqual([...config.ownEndpoints, '127.0.0.1:8233', '10.0.0.0/24:8888']);
    expect(() =>
      loadConfig({
        DATABASE_URL: 'postgres://ferry:x@127.0.0.1/ferry',
        FERRY_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
        FERRY_SERVICE_ENDPOINTS: 'not a site',
      }),
    ).toThrow(/FERRY_SERVICE_ENDPOINTS/);
  });
});

describe("a new store's endpoints", () => {
  const own = ['127.0.0.1:8080', '127.0.0.1:7233', '127.0.0.1:5433'];
  const check = (allowed: string, endpoint: string) =>
    checkStoreEndpoints(allowed, 'S3', { endpoint, bucket: 'b' }, own, resolve);

  it('are the http(s) URLs among its settings', () => {
    expect(storeEndpointUrls({ endpoint: 'http://10.0.0.5:8333', bucket: 'b', pathstyle: 'true' })).toEqual([
      'http://10.0.0.5:8333',
    ]);
    expect(storeEndpointUrls({ authurl: 'https://swift.example.org/auth/v1.0', container: 'c' })).toHaveLength(1);
    expect(storeEndpointUrls({ server: 'nfs.internal', exportpath: '/x', sshaddress: '10.0.0.9' })).toEqual([]);
  });

  it("may be public; internal only where the setting lists them; never one of Ferry's services", async () => {
    await expect(check('', 'https://93.184.216.34')).resolves.toBeUndefined();
    await expect(check('', 'http://127.0.0.1:8333')).rejects.toThrow(UrlRefused);
    await expect(check('', 'http://127.0.0.1:8333')).rejects.toThrow(
      /S3 endpoint http:\/\/127\.0\.0\.1:8333 is not allowed: .*secstorage\.allowed\.internal\.store\.endpoints/,
    );
    await expect(check('127.0.0.1:8333', 'http://127.0.0.1:8333')).resolves.toBeUndefined();
    await expect(check('127.0.0.1:8333', 'http://127.0.0.1:8334')).rejects.toThrow(UrlRefused);
    await expect(check('10.0.0.0/8', 'http://s3.internal:8333')).resolves.toBeUndefined();
    await expect(check('', 'http://s3.internal:8333')).rejects.toThrow(UrlRefused);
    await expect(check('127.0.0.0/8, ::1', 'http://localhost:8333')).resolves.toBeUndefined();
    for (const port of [8080, 7233, 5433]) {
      await expect(check('127.0.0.0/8, ::1', `http://127.0.0.1:${port}`)).rejects.toThrow(/is not allowed/);
      await expect(check('127.0.0.0/8, ::1', `http://localhost:${port}`)).rejects.toThrow(/is not allowed/);
    }
  });
});
