// Endpoints an administrator gives a new image store (an S3 endpoint, a Swift auth URL) go through a policy like user
// downloads do: Ferry's own services (API, Temporal, PostgreSQL) never, and internal (private, loopback, link-local)
// addresses only where `secstorage.allowed.internal.store.endpoints` lists them. Checked before Ferry connects to it.
import { checkUrl, parseSiteList, UrlRefused, type Resolver } from '../core/url-policy';
import { denyListOf, localAddresses } from './download-policy';

export const STORE_ENDPOINTS_SETTING = 'secstorage.allowed.internal.store.endpoints';

/** The http(s) URLs among a store's settings: what its driver connects to (S3 `endpoint`, Swift `authurl`). */
export function storeEndpointUrls(settings: Record<string, string>): string[] {
  return Object.values(settings).filter((v) => /^https?:\/\//i.test(v));
}

/** Throws UrlRefused naming the store's endpoint and the setting if any endpoint is not allowed. */
export async function checkStoreEndpoints(
  /** The value of secstorage.allowed.internal.store.endpoints. */
  allowedSetting: string,
  provider: string,
  settings: Record<string, string>,
  ownEndpoints: readonly string[],
  resolve: Resolver,
): Promise<void> {
  const policy = {
    allowed: parseSiteList(allowedSetting),
    denied: denyListOf(ownEndpoints, localAddresses()),
  };
  for (const url of storeEndpointUrls(settings)) {
    await checkUrl(
      url,
      policy,
      resolve,
      () =>
        new UrlRefused(
          `${provider} endpoint ${url} is not allowed: a store is never one of Ferry's own services (its API, ` +
            'Temporal, PostgreSQL), and an internal (private, loopback or link-local) endpoint only where an ' +
            `administrator lists it with updateConfiguration name=${STORE_ENDPOINTS_SETTING} (host[:port] or CIDR[:port]).`,
        ),
    );
  }
}
