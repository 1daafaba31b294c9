import { describe, expect, it } from 'vitest';
import { checkDownloadUrl, parseCidrList, UrlRefused } from '../../core/url-policy';

const dns: Record<string, string[]> = {
  'images.example.org': ['93.184.216.34'],
  'sneaky.example.org': ['93.184.216.34', '10.0.0.7'],
  localhost: ['127.0.0.1', '::1'],
  'nothing.example.org': [],
};
const resolve = (host: string) => Promise.resolve(dns[host] ?? []);
const none = parseCidrList('');

describe('URL policy for user downloads', () => {
  it('fetches public http and https URLs', async () => {
    expect((await checkDownloadUrl('https://images.example.org/a.qcow2', none, resolve)).hostname).toBe(
      'images.example.org',
    );
    expect((await checkDownloadUrl('http://93.184.216.34:8080/a.iso', none, resolve)).port).toBe('8080');
  });

  it.each([
    ['file:///etc/passwd', /file URLs are not fetched/],
    ['ftp://images.example.org/a.qcow2', /ftp URLs are not fetched/],
    ['gopher://x/', /not fetched/],
    ['not a url', /not a URL/],
    ['http://user:pw@images.example.org/a', /credentials/],
    ['http://169.254.169.254/latest/meta-data/', /link-local|private/],
    ['http://10.0.0.1/a.qcow2', /private/],
    ['http://localhost:8099/sample.qcow2', /private, loopback/],
    ['http://127.1/x', /loopback/],
    ['http://2130706433/x', /loopback/],
    ['http://[::1]/x', /loopback/],
    ['http://[::ffff:10.0.0.1]/x', /private/],
    ['http://[fd00::1]/x', /private/],
    ['http://sneaky.example.org/x', /10\.0\.0\.7/],
    ['http://nothing.example.org/x', /does not resolve/],
  ])('refuses %s', async (url, reason) => {
    await expect(checkDownloadUrl(url, none, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkDownloadUrl(url, none, resolve)).rejects.toThrow(reason);
  });

  it('lets an operator allow internal ranges, and only those', async () => {
    const allowed = parseCidrList('127.0.0.1/32, ::1/128');
    expect(await checkDownloadUrl('http://localhost:8099/sample.qcow2', allowed, resolve)).toBeInstanceOf(URL);
    await expect(checkDownloadUrl('http://127.0.0.2/x', allowed, resolve)).rejects.toThrow(UrlRefused);
    await expect(checkDownloadUrl('http://10.0.0.1/x', allowed, resolve)).rejects.toThrow(UrlRefused);
  });

  it('refuses malformed CIDR lists', () => {
    expect(() => parseCidrList('10.0.0.0/33')).toThrow(/not a CIDR/);
    expect(() => parseCidrList('lab')).toThrow(/not a CIDR/);
    expect(() => parseCidrList('10.0.0.0/8,,  ')).not.toThrow();
  });
});
