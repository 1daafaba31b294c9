// The URL policy in force for a user download (registerTemplate, uploadVolume): the operator's allow-list of internal
// sites, and the deny-list of Ferry's own services that no allow-list opens. The deny-list is what the configuration
// names (the API, Temporal, PostgreSQL, FERRY_SERVICE_ENDPOINTS) plus every endpoint the catalogue knows: each image
// and cache store's (an S3 endpoint, a Swift auth URL, an NFS store's SSH endpoint) and each host's SSH endpoint.
// Read at every check, so a store added a moment ago is protected at once.
import { networkInterfaces } from 'node:os';
import {
  DOWNLOAD_SITES_SETTING,
  endpointEntry,
  endpointOfUrl,
  isLoopbackAddress,
  parseSiteList,
  type SiteList,
  type UrlPolicy,
} from '../core/url-policy';
import type { Db } from '../db/client';
import { hosts, imageStores } from '../db/schema';
import { readSetting } from '../db/settings';

/** The host:port endpoints of the stores and hosts in the catalogue. */
export async function catalogueEndpoints(db: Db): Promise<string[]> {
  const stores = await db.select({ settings: imageStores.settings, url: imageStores.url }).from(imageStores);
  const found: (string | undefined)[] = [];
  for (const { settings, url } of stores) {
    if (settings.endpoint) found.push(endpointOfUrl(settings.endpoint));
    if (settings.authurl) found.push(endpointOfUrl(settings.authurl));
    if (settings.sshaddress) found.push(endpointEntry(settings.sshaddress, settings.sshport ?? '22'));
    found.push(endpointOfUrl(url));
  }
  for (const h of await db.select({ address: hosts.address, port: hosts.sshPort }).from(hosts)) {
    found.push(endpointEntry(h.address, h.port));
  }
  return [...new Set(found.filter((e): e is string => e !== undefined))];
}

/** The machine's own addresses (a service bound to 0.0.0.0 answers on each of them). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address);
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** host and port of "host:port", "[v6]:port", "host" or a CIDR (which is passed through as it is). */
function split(entry: string): { host: string; port?: string } | undefined {
  if (entry.includes('/')) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: bracketed[2] } : {}) };
  if ((entry.match(/:/g) ?? []).length >= 2) return { host: entry };
  const [host, port] = entry.split(':');
  return { host: host!, ...(port ? { port } : {}) };
}

/**
 * A deny-list from endpoints. A loopback endpoint stands for every loopback address on its port (and 0.0.0.0, which
 * reaches them too): a service on 127.0.0.1:8888 is as much Ferry's when asked for as localhost, [::1] or 127.1. A
 * wildcard endpoint (a service bound to 0.0.0.0 or ::) stands for the loopback and every address of the machine.
 */
export function denyListOf(endpoints: readonly string[], machineAddresses: readonly string[]): SiteList {
  const entries: string[] = [];
  for (const raw of endpoints.flatMap((e) => e.split(',')).map((e) => e.trim())) {
    if (!raw) continue;
    const parts = split(raw);
    if (!parts) {
      entries.push(raw);
      continue;
    }
    const host = parts.host.toLowerCase();
    const at = (h: string) => (parts.port ? endpointEntry(h, parts.port) : h.includes(':') ? `[${h}]` : h);
    const loopback = LOOPBACK_NAMES.has(host) || isLoopbackAddress(host) || WILDCARDS.has(host);
    if (!loopback) {
      entries.push(at(host));
      continue;
    }
    entries.push(...['127.0.0.0/8', '::1', '0.0.0.0/8', '::'].map(at));
    if (WILDCARDS.has(host)) entries.push(...machineAddresses.map(at));
  }
  return parseSiteList(entries.join(','));
}

/** The whole policy: the allow-list setting, and the deny-list of the configured endpoints and the catalogue's. */
export async function downloadPolicy(db: Db, serviceEndpoints: readonly string[]): Promise<UrlPolicy> {
  const allowed = parseSiteList(await readSetting(db, DOWNLOAD_SITES_SETTING));
  const denied = denyListOf([...serviceEndpoints, ...(await catalogueEndpoints(db))], localAddresses());
  return { allowed, denied };
}
