// Which URLs Ferry may fetch for a user (registerTemplate, uploadVolume): http(s) only; never a private, loopback or
// link-local address unless an operator listed that site (`secstorage.allowed.internal.download.sites`); and never
// one of Ferry's own services (its API, Temporal, PostgreSQL, its stores), whatever the allow-list says. Names are
// resolved and every address must pass, so a DNS name cannot smuggle in an internal target. A refusal says only that
// the URL is not allowed and how internal sites are allowed: never what answered there, or whether anything did.
//
// Site lists (the allow-list, the deny-list, the store-endpoint list) are comma-separated entries, each one of
//   10.1.0.0/16   127.0.20.1/32:8099   127.0.20.1   127.0.20.1:8099   ::1/128   [::1]:8099   [fd00::/8]:8099
//   images.internal   images.internal:8080
// An entry without a port matches every port; a host name matches the URL's host name as written.
import { BlockList, isIP } from 'node:net';

export type Resolver = (hostname: string) => Promise<string[]>;

export class UrlRefused extends Error {}

type Family = 'ipv4' | 'ipv6';

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
export function normalizeAddress(address: string): { address: string; family: Family } {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address: bare, family: isIP(bare) === 6 ? 'ipv6' : 'ipv4' };
}

/** Private, loopback, link-local, multicast or otherwise not a public unicast address. */
export function isInternalAddress(raw: string): boolean {
  const { address, family } = normalizeAddress(raw);
  return internal.check(address, family);
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export function isLoopbackAddress(raw: string): boolean {
  if (!isIP(raw.replace(/^\[|\]$/g, ''))) return false;
  const { address, family } = normalizeAddress(raw);
  return loopback.check(address, family);
}

/** One place a URL may point at: its host name (as written) or address, and the port it connects to. */
export interface Target {
  hostname: string;
  address: string;
  port: number;
}

type Site =
  | { kind: 'net'; text: string; blocks: BlockList; port?: number }
  | { kind: 'name'; text: string; name: string; port?: number };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i;

const notASite = (item: string) =>
  new Error(
    `${item} is not a site: give an address, a CIDR or a host name, each with an optional port ` +
      '(127.0.20.1/32:8099, 10.1.0.0/16, [::1]:8099, images.internal:8080)',
  );

function parsePort(item: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) throw notASite(item);
  return port;
}

function parseSite(item: string): Site {
  let host: string;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(item);
  if (bracketed) {
    host = bracketed[1]!;
    port = parsePort(item, bracketed[2]);
    if (!host.split('/')[0]!.includes(':')) throw notASite(item);
  } else if ((item.match(/:/g) ?? []).length >= 2) {
    host = item; // a bare IPv6 address or CIDR: it cannot carry a port without brackets
  } else {
    const m = /^([^:]+)(?::(\d*))?$/.exec(item);
    if (!m) throw notASite(item);
    host = m[1]!;
    port = parsePort(item, m[2]);
  }
  const [net, bits, extra] = host.split('/');
  if (extra !== undefined) throw notASite(item);
  const family = isIP(net ?? '');
  if (family) {
    const max = family === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : Number(bits);
    if (!/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) throw notASite(item);
    const { address, family: normalized } = normalizeAddress(net!);
    const blocks = new BlockList();
    // A mapped IPv6 address stands for its IPv4 address (and a /n over the mapped range for that IPv4 range).
    const mappedPrefix = normalized === 'ipv4' && family === 6 ? Math.max(0, prefix - 96) : prefix;
    blocks.addSubnet(address, mappedPrefix, normalized);
    return { kind: 'net', text: item, blocks, ...(port === undefined ? {} : { port }) };
  }
  // A name of digits and dots (127.1, 2130706433) is an address in a URL, never the name it looks like.
  if (bits !== undefined || !HOST_NAME.test(host) || /^[\d.]+$/.test(host)) throw notASite(item);
  return {
    kind: 'name',
    text: item,
    name: host.toLowerCase().replace(/\.$/, ''),
    ...(port === undefined ? {} : { port }),
  };
}

/** A parsed site list; `matches` tells whether a target is one of its sites. */
export class SiteList {
  private constructor(private readonly sites: readonly Site[]) {}

  static parse(value: string): SiteList {
    return new SiteList(
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map(parseSite),
    );
  }

  static of(...lists: readonly SiteList[]): SiteList {
    return new SiteList(lists.flatMap((l) => l.sites));
  }

  get size(): number {
    return this.sites.length;
  }

  /** The entries as given (for messages and logs). */
  entries(): string[] {
    return this.sites.map((s) => s.text);
  }

  matches(target: Target): boolean {
    const { address, family } = normalizeAddress(target.address);
    const hostname = target.hostname
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '');
    return this.sites.some(
      (s) =>
        (s.port === undefined || s.port === target.port) &&
        (s.kind === 'net' ? s.blocks.check(address, family) : s.name === hostname),
    );
  }

  /**
   * The list with each host-name entry also standing for the addresses that name resolves to now (a deny-list of
   * "s3.internal:8333" must also refuse http://10.0.0.5:8333/ when that is where s3.internal points).
   */
  async withAddressesOfNames(resolve: Resolver): Promise<SiteList> {
    const names = this.sites.filter((s) => s.kind === 'name');
    if (names.length === 0) return this;
    const extra: Site[] = [];
    for (const site of names) {
      const addresses = await resolve(site.name).catch(() => [] as string[]);
      for (const a of addresses) {
        const { address, family } = normalizeAddress(a);
        const blocks = new BlockList();
        blocks.addAddress(address, family);
        extra.push({ kind: 'net', text: site.text, blocks, ...(site.port === undefined ? {} : { port: site.port }) });
      }
    }
    return new SiteList([...this.sites, ...extra]);
  }
}

/** Parses a comma-separated site list (see the top of this file); throws naming the first bad entry. */
export function parseSiteList(value: string): SiteList {
  return SiteList.parse(value);
}

/**
 * @deprecated The old name, from when the allow-list took CIDRs only: kept so callers that pass the allow-list alone
 * still compile. Pass a whole UrlPolicy (allowed and denied) instead.
 */
export const parseCidrList = parseSiteList;

/** What a download may reach: internal sites only where `allowed` lists them, never a site `denied` lists. */
export interface UrlPolicy {
  allowed: SiteList;
  denied: SiteList;
}

export const DOWNLOAD_SITES_SETTING = 'secstorage.allowed.internal.download.sites';

/** The one sentence every policy refusal says, whatever the reason (internal, deny-listed, a redirect to either). */
export function notAllowed(url: string): UrlRefused {
  return new UrlRefused(
    `${url} is not allowed: Ferry fetches public http(s) sites, never its own services, and internal (private, ` +
      `loopback or link-local) sites only where an administrator lists them with updateConfiguration ` +
      `name=${DOWNLOAD_SITES_SETTING} (host[:port] or CIDR[:port]).`,
  );
}

/** A URL that passed the policy, with the addresses it was judged by (connect to these, not to a new lookup). */
export interface CheckedUrl {
  url: URL;
  port: number;
  addresses: string[];
  /** Some address is internal (allowed by the allow-list): what such a site answers is not shown to the user. */
  internal: boolean;
}

export const defaultPort = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** Checks the form of a URL (http(s), no credentials) and returns it parsed. */
export function parseHttpUrl(raw: string): URL {
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
  return url;
}

/**
 * Judges `raw` by the policy: its form, then every address it resolves to (never a denied site; an internal address
 * only where the allow-list lists it). A refusal is `refuse()`, the same whatever the reason.
 */
export async function checkUrl(
  raw: string,
  policy: UrlPolicy,
  resolve: Resolver,
  refuse: () => Error,
): Promise<CheckedUrl> {
  const url = parseHttpUrl(raw);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = defaultPort(url);
  const addresses = isIP(hostname) ? [hostname] : await resolve(hostname);
  if (addresses.length === 0) throw new UrlRefused(`${url.hostname} does not resolve to any address.`);
  const denied = await policy.denied.withAddressesOfNames(resolve);
  let anyInternal = false;
  for (const address of addresses) {
    const target = { hostname, address, port };
    if (denied.matches(target)) throw refuse();
    if (isInternalAddress(address)) {
      if (!policy.allowed.matches(target)) throw refuse();
      anyInternal = true;
    }
  }
  return { url, port, addresses, internal: anyInternal };
}

/**
 * A user download's URL judged by the policy. `refusedAs` is the URL a refusal names: the one the user gave, also when
 * `raw` is where it redirected to (so a refusal tells neither where the redirect led nor that there was one).
 */
export function checkDownloadUrl(
  raw: string,
  policy: UrlPolicy,
  resolve: Resolver,
  refusedAs: string = raw,
): Promise<CheckedUrl> {
  return checkUrl(raw, policy, resolve, () => notAllowed(refusedAs));
}

/** "host:port" as a site-list entry (an IPv6 address in brackets). */
export function endpointEntry(host: string, port: number | string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** The host:port an http(s) URL connects to, as a site-list entry; undefined if it is not such a URL. */
export function endpointOfUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (!url.hostname) return undefined;
    const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
    return port ? endpointEntry(url.hostname, port) : undefined;
  } catch {
    return undefined;
  }
}
