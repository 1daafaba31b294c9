import { describe, expect, it } from 'vitest';
import {
  checkDownloadUrl,
  notAllowed,
  parseSiteList,
  SiteList,
  UrlRefused,
  type UrlPolicy,
} from '../../core/url-policy';

// A stubbed resolver: nothing here resolves or contacts a real name.
const dns: Record<string, string[]> = {
  'images.example.org': ['93.184.216.34'],
  'sneaky.example.org': ['93.184.216.34', '10.0.0.7'],
  'mirror.internal': ['10.1.2.3'],
  's3.internal': ['10.0.0.5'],
  localhost: ['127.0.0.1', '::1'],
  'nothing.example.org': [],
};
const resolve = (host: string) => Promise.resolve(dns[host] ?? []);
const policy = (allowed: string, denied = ''): UrlPolicy => ({
  allowed: parseSiteList(allowed),
  denied: parseSiteList(denied),
});
const none = policy('');
const NOT_ALLOWED = /is not allowed: .*secstorage\.allowed\.internal\.download\.sites/;

describe('site lists', () => {
  const target = (address: string, port: number, hostname = address) => ({ hostname, address, port });

  it.each([
    ['127.0.20.1/32:8099', target('127.0.20.1', 8099), true],
    ['127.0.20.1/32:8099', target('127.0.20.1', 8098), false],
    ['127.0.20.1/32:8099', target('127.0.20.2', 8099), false],
    ['127.0.20.1:8099', target('127.0.20.1', 8099), true],
    ['127.0.20.1:8099', target('127.0.20.1', 80), false],
    ['127.0.20.1', target('127.0.20.1', 4711), true],
    ['10.1.0.0/16', target('10.1.255.3', 443), true],
    ['10.1.0.0/16', target('10.2.0.1', 443), false],
    ['10.1.0.0/16:8080', target('10.1.0.9', 8080), true],
    ['10.1.0.0/16:8080', target('10.1.0.9', 8081), false],
    ['::1/128', target('::1', 8099), true],
    ['[::1]:8099', target('::1', 8099), true],
    ['[::1]:8099', target('::1', 8100), false],
    ['[fd00::/8]:8099', target('fd12::5', 8099), true],
    ['[fd00::/8]:8099', target('fe80::5', 8099), false],
    ['fd00::/8', target('fd12::5', 1), true],
    // An IPv4-mapped IPv6 address is its IPv4 address, in the list and in the target.
    ['127.0.20.1/32:8099', target('::ffff:127.0.20.1', 8099), true],
    ['[::ffff:10.0.0.0/104]:80', target('10.9.9.9', 80), true],
    ['images.internal:8080', target('10.0.0.1', 8080, 'images.internal'), true],
    ['images.internal:8080', target('10.0.0.1', 8080, 'IMAGES.internal.'), true],
    ['images.internal:8080', target('10.0.0.1', 8080, 'other.internal'), false],
    ['images.internal', target('10.0.0.1', 1, 'images.internal'), true],
    [' 10.0.0.0/8 , 127.0.20.1/32:8099 ', target('127.0.20.1', 8099), true],
    ['', target('127.0.0.1', 80), false],
  ])('%s matches %o: %s', (list, t, expected) => {
    expect(parseSiteList(list).matches(t)).toBe(expected);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/8/1',
    '::1/129',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:80x',
    '127.0.0.1:',
    '[127.0.0.1]:80',
    '[::1',
    'lab/8',
    'bad host:80',
    'http://127.0.0.1/',
    '10.0.0.0/-1',
    '127.1',
    '2130706433:80',
  ])('refuses the entry %s, naming it', (entry) => {
    expect(() => parseSiteList(`10.0.0.0/8, ${entry}`)).toThrow(`${entry.trim()} is not a site`);
  });

  it('takes empty entries and lists as nothing', () => {
    expect(parseSiteList('10.0.0.0/8,,  ').size).toBe(1);
    expect(parseSiteList('').size).toBe(0);
    expect(SiteList.of(parseSiteList('10.0.0.0/8'), parseSiteList('::1')).entries()).toEqual(['10.0.0.0/8', '::1']);
  });

  it('lets a named entry also stand for the addresses its name resolves to', async () => {
    const list = await parseSiteList('s3.internal:8333').withAddressesOfNames(resolve);
    expect(list.matches(target('10.0.0.5', 8333))).toBe(true);
    expect(list.matches(target('10.0.0.5', 8334))).toBe(false);
    // A name that does not resolve adds nothing (and is not an error).
    const lost = await parseSiteList('gone.internal:1').withAddressesOfNames(resolve);
    expect(lost.size).toBe(1);
  });
});

describe('URL policy for user downloads', () => {
  it('fetches public http and https URLs, with the addresses it judged', async () => {
    const checked = await checkDownloadUrl('https://images.example.org/a.qcow2', none, resolve);
    expect(checked).toMatchObject({ port: 443, addresses: ['93.184.216.34'], internal: false });
    expect((await checkDownloadUrl('http://93.184.216.34:8080/a.iso', none, resolve)).port).toBe(8080);
  });

  it.each([
    ['file:///etc/passwd', /file URLs are not fetched/],
    ['ftp://images.example.org/a.qcow2', /ftp URLs are not fetched/],
    ['gopher://x/', /not fetched/],
    ['not a url', /not a URL/],
    ['http://user:pw@images.example.org/a', /credentials/],
    ['http://169.254.169.254/latest/meta-data/', NOT_ALLOWED],
    ['http://10.0.0.1/a.qcow2', NOT_ALLOWED],
    ['http://localhost:8099/sample.qcow2', NOT_ALLOWED],
    ['http://127.1/x', NOT_ALLOWED],
    ['http://2130706433/x', NOT_ALLOWED],
    ['http://0.0.0.0:8080/x', NOT_ALLOWED],
    ['http://[::1]/x', NOT_ALLOWED],
    ['http://[::ffff:10.0.0.1]/x', NOT_ALLOWED],
    ['http://[fd00::1]/x', NOT_ALLOWED],
    ['http://sneaky.example.org/x', NOT_ALLOWED],
    ['http://nothing.example.org/x', /does not resolve/],
  ])('refuses %s', async (url, reason) => {
    await expect(checkDownloadUrl(url, none, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkDownloadUrl(url, none, resolve)).rejects.toThrow(reason);
  });

  it('says the same sentence for every policy refusal: never which address a name resolved to, or why', async () => {
    const url = 'http://sneaky.example.org/x';
    const internal = await checkDownloadUrl(url, none, resolve).catch((e: Error) => e.message);
    const denied = await checkDownloadUrl(url, policy('', 'sneaky.example.org'), resolve).catch(
      (e: Error) => e.message,
    );
    expect(internal).toBe(notAllowed(url).message);
    expect(denied).toBe(internal);
    expect(internal).not.toContain('10.0.0.7');
  });

  it('lets an operator allow internal sites, by address, CIDR and port, or by name, and only those', async () => {
    const lab = policy('127.0.20.1/32:8099');
    expect(await checkDownloadUrl('http://127.0.20.1:8099/sample.qcow2', lab, resolve)).toMatchObject({
      internal: true,
    });
    for (const url of ['http://127.0.20.1:8098/x', 'http://127.0.20.1/x', 'http://127.0.0.1:8099/x']) {
      await expect(checkDownloadUrl(url, lab, resolve), url).rejects.toThrow(NOT_ALLOWED);
    }
    const loopback = policy('127.0.0.1/32, ::1/128');
    expect(await checkDownloadUrl('http://localhost:8099/sample.qcow2', loopback, resolve)).toBeTruthy();
    await expect(checkDownloadUrl('http://127.0.0.2/x', loopback, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkDownloadUrl('http://10.0.0.1/x', loopback, resolve)).rejects.toThrow(UrlRefused);
    const byName = policy('mirror.internal:8080');
    expect(await checkDownloadUrl('http://mirror.internal:8080/a.raw', byName, resolve)).toBeTruthy();
    await expect(checkDownloadUrl('http://10.1.2.3:8080/a.raw', byName, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkDownloadUrl('http://mirror.internal:8081/a.raw', byName, resolve)).rejects.toThrow(UrlRefused);
  });

  it("refuses Ferry's own services whatever the allow-list says, by address, by name and by what a name resolves to", async () => {
    const everything = '0.0.0.0/0, ::/0';
    const p = policy(everything, '127.0.0.1:8888, s3.internal:8333, 93.184.216.34:443');
    for (const url of [
      'http://127.0.0.1:8888/buckets/other-tenant/backup.qcow2',
      'http://s3.internal:8333/bucket/key',
      'http://10.0.0.5:8333/bucket/key',
      'https://images.example.org/a.qcow2',
    ]) {
      await expect(checkDownloadUrl(url, p, resolve), url).rejects.toThrow(NOT_ALLOWED);
    }
    // The same addresses on other ports are not the services.
    expect(await checkDownloadUrl('http://127.0.0.1:8099/x', p, resolve)).toBeTruthy();
    expect(await checkDownloadUrl('http://10.0.0.5:8334/x', p, resolve)).toBeTruthy();
  });

  it('names the URL the user gave in a refusal of where it redirected', async () => {
    await expect(
      checkDownloadUrl('http://127.0.0.1:8888/x', none, resolve, 'https://images.example.org/a.qcow2'),
    ).rejects.toThrow(/^https:\/\/images\.example\.org\/a\.qcow2 is not allowed/);
  });
});
