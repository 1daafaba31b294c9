// Opens a user's URL for reading under the URL policy (core/url-policy.ts), following redirects only to URLs that pass
// it too. Each connection goes to the addresses the policy judged, never to a second lookup, so a name that resolves
// elsewhere a moment later (DNS rebinding) cannot reach an internal service. What an internal (allowed) site answers
// is not repeated to the user: a status or a refused connection there would map the internal network.
// Below the layers that use it: the API reaches a URL before saving anything, the transfer activities read it.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import {
  checkDownloadUrl,
  SiteList,
  UrlRefused,
  type CheckedUrl,
  type Resolver,
  type UrlPolicy,
} from '../core/url-policy';

export const resolveAll: Resolver = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

export interface SourceOptions {
  resolve?: Resolver;
  /** How long to wait for a connection and the response's headers. */
  headersTimeoutMs?: number;
}

const MAX_REDIRECTS = 5;

/** One GET to exactly the checked addresses; resolves with the response once its headers are in. */
function get(checked: CheckedUrl, timeoutMs: number): Promise<IncomingMessage> {
  const pinned: LookupAddress[] = checked.addresses.map((address) => ({
    address,
    family: isIP(address) === 6 ? 6 : 4,
  }));
  const request = checked.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(checked.url, {
      method: 'GET',
      agent: false,
      lookup: (_hostname, options, callback) => {
        const usable = pinned.filter((a) => !options.family || a.family === options.family);
        if (usable.length === 0) return callback(new Error('no address of the checked family'), '', 4);
        if (options.all) return callback(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.once('error', reject);
    req.once('response', (res) => {
      // From here the body streams at the reader's pace: a reader that pauses (a slow store) must not time out.
      req.setTimeout(0);
      resolve(res);
    });
    req.end();
  });
}

function asResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status: res.statusCode ?? 200, headers });
}

/**
 * GETs `url` under `policy`; answers the 2xx response (its body for the caller to read or cancel). Failures are typed:
 * UrlRefused and SourceNotFound are final, SourceUnavailable may be retried.
 * A bare SiteList is taken as the allow-list with no deny-list (for callers not yet passing a whole policy).
 */
export async function openSource(
  url: string,
  policy: UrlPolicy | SiteList,
  options: SourceOptions = {},
): Promise<Response> {
  const whole: UrlPolicy = policy instanceof SiteList ? { allowed: policy, denied: SiteList.parse('') } : policy;
  const resolve = options.resolve ?? resolveAll;
  const timeoutMs = options.headersTimeoutMs ?? 30_000;
  let current = url;
  let internal = false;
  // Once any hop is internal, nothing past it is described (its status, where it redirected, why it failed).
  const failure = (detail: string, retryable: boolean) => {
    const message = internal
      ? `${url} cannot be fetched; check the URL and that its site serves it (what an internal site answers is not shown).`
      : `${current} ${detail}`;
    return retryable
      ? ApplicationFailure.retryable(message, 'SourceUnavailable')
      : ApplicationFailure.nonRetryable(message, 'SourceNotFound');
  };
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let checked: CheckedUrl;
    try {
      checked = await checkDownloadUrl(current, whole, resolve, url);
    } catch (err) {
      if (err instanceof UrlRefused) throw ApplicationFailure.nonRetryable(err.message, 'UrlRefused');
      throw failure(`cannot be fetched: ${(err as Error).message}`, true);
    }
    internal ||= checked.internal;
    let res: IncomingMessage;
    try {
      res = await get(checked, timeoutMs);
    } catch (err) {
      throw failure(`cannot be fetched: ${(err as Error).message}`, true);
    }
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location) {
      res.destroy();
      try {
        current = new URL(location, current).toString();
      } catch {
        throw failure('redirects to something that is not a URL', false);
      }
      continue;
    }
    if (status >= 200 && status < 300) return asResponse(res);
    res.destroy();
    if (status >= 400 && status < 500) throw failure(`answered HTTP ${status}; check the URL.`, false);
    throw failure(`answered HTTP ${status}`, true);
  }
  throw failure(`redirects more than ${MAX_REDIRECTS} times`, false);
}
