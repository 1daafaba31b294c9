// Ferry's own expiring download links (for stores that cannot make URLs themselves, like NFS):
// /download?store=&key=&expires=&signature=, HMAC-SHA256 under a key derived from the master key.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DownloadLinks {
  url: (storeId: string, key: string, seconds: number, now?: Date) => string;
  /** The store and key a link names, if its signature holds and it has not expired. */
  verify: (params: URLSearchParams, now?: Date) => { storeId: string; key: string } | undefined;
}

export function createDownloadLinks(masterKey: Buffer, publicUrl: string): DownloadLinks {
  const linkKey = createHmac('sha256', masterKey).update('ferry-download-links-v1').digest();
  const mac = (store: string, key: string, expires: string) =>
    createHmac('sha256', linkKey).update(`${store}\n${key}\n${expires}`).digest('hex');
  return {
    url(storeId, key, seconds, now = new Date()) {
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
      return { storeId: store, key };
    },
  };
}
