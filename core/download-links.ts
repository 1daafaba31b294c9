// Ferry's own expiring download links (for stores that cannot make URLs themselves, like NFS):
// /download?store=&key=&expires=&signature=, HMAC-SHA256 under a key derived from the master key.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DownloadLinks {
  url: (storeId: string, key: string, seconds: number, now?: Date) => string;
  /** The store and key a link names, if its signature holds and it has not expired. */
  verify: (params: URLSearchParams, now?: Date) => { storeId: string; key: string } | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether a link may name this key: a relative path of plain segments inside the store, as every key Ferry makes is
 * (no "..", no absolute path, no hidden or internal entries such as an NFS store's .ferry-uploads, no NUL). Checked
 * even under a valid signature, so no link, whoever made it, reaches outside a store or trips its driver.
 */
export function isLinkableKey(key: string): boolean {
  return (
    key.length > 0 &&
    key.length <= 1024 &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f\\]/.test(key) &&
    key.split('/').every((segment) => segment !== '' && !segment.startsWith('.'))
  );
}

export function createDownloadLinks(masterKey: Buffer, publicUrl: string): DownloadLinks {
  const linkKey = createHmac('sha256', masterKey).update('ferry-download-links-v1').digest();
  const mac = (store: string, key: string, expires: string) =>
    createHmac('sha256', linkKey).update(`${store}\n${key}\n${expires}`).digest('hex');
  return {
    url(storeId, key, seconds, now = new Date()) {
      if (!UUID.test(storeId) || !isLinkableKey(key))
        throw new Error(`no download link for key ${JSON.stringify(key)}`);
      const expires = String(Math.floor(now.getTime() / 1000) + seconds);
      const q = new URLSearchParams({ store: storeId, key, expires, signature: mac(storeId, key, expires) });
      return `${publicUrl}/download?${q.toString()}`;
    },
    verify(params, now = new Date()) {
      const store = params.get('store');
      const key = params.get('key');
      const expires = params.get('expires');
      const signature = params.get('signature');
      if (!store || !key || !expires || !signature || !/^\d+$/.test(expires)) return undefined;
      const want = Buffer.from(mac(store, key, expires));
      const given = Buffer.from(signature);
      if (want.length !== given.length || !timingSafeEqual(want, given)) return undefined;
      if (Number(expires) * 1000 <= now.getTime()) return undefined;
      if (!UUID.test(store) || !isLinkableKey(key)) return undefined;
      return { storeId: store, key };
    },
  };
}
