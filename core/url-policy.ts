// Which URLs Ferry may fetch for a user (registerTemplate, uploadVolume): http(s) only, and never a private,
// loopback or link-local address unless an operator allowed that range
// (`secstorage.allowed.internal.download.sites`). Names are resolved and every address must pass, so a DNS name
// cannot smuggle in an internal target.
import { BlockList, isIP } from 'node:net';

export type Resolver = (hostname: string) => Promise<string[]>;

export class UrlRefused extends Error {}

const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Parses "10.1.0.0/16, 127.0.0.1/32, ::1/128" (CloudStack's comma-separated CIDR list). */
export function parseCidrList(value: string): BlockList {
  const list = new BlockList();
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [net, bits] = item.split('/');
    const family = isIP(net ?? '');
    const prefix = Number(bits ?? (family === 6 ? 128 : 32));
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`${item} is not a CIDR (like 10.1.0.0/16)`);
    }
    list.addSubnet(net!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

export async function checkDownloadUrl(raw: string, allowed: BlockList, resolve: Resolver): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused(`${raw} is not a URL; give an http:// or https:// URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlRefused(`${url.protocol.replace(':', '')} URLs are not fetched; give an http:// or https:// URL.`);
  }
  if (url.username || url.password) throw new UrlRefused('URLs with credentials in them are not fetched.');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new UrlRefused(`${host} does not resolve to any address.`);
  for (const a of addresses) {
    const { address, family } = normalize(a);
    if (internal.check(address, family) && !allowed.check(address, family)) {
      throw new UrlRefused(
        `${url.hostname} is a private, loopback or link-local address (${address}); an administrator can allow it ` +
          `with updateConfiguration name=secstorage.allowed.internal.download.sites.`,
      );
    }
  }
  return url;
}
