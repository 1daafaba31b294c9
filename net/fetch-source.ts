// Opens a user's URL for reading under the URL policy, following redirects only to URLs that pass it too.
// Below the layers that use it: the API reaches a URL before saving anything, the transfer activities read it.
import { lookup } from 'node:dns/promises';
import type { BlockList } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { checkDownloadUrl, UrlRefused } from '../core/url-policy';

const resolveAll = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

export async function openSource(url: string, allowed: BlockList): Promise<Response> {
  let current = url;
  for (let hop = 0; hop < 5; hop++) {
    try {
      await checkDownloadUrl(current, allowed, resolveAll);
    } catch (err) {
      if (err instanceof UrlRefused) throw ApplicationFailure.nonRetryable(err.message, 'UrlRefused');
      throw err;
    }
    const res = await fetch(current, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    if (res.status >= 400 && res.status < 500) {
      await res.body?.cancel();
      throw ApplicationFailure.nonRetryable(`${current} answered HTTP ${res.status}; check the URL.`, 'SourceNotFound');
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw ApplicationFailure.retryable(`${current} answered HTTP ${res.status}`, 'SourceUnavailable');
    }
    return res;
  }
  throw ApplicationFailure.nonRetryable(`${url} redirects more than 5 times`, 'SourceNotFound');
}
