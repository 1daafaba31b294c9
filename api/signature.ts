// CloudStack request signatures: HMAC-SHA1 over the sorted, URL-encoded, lower-cased parameters.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** java.net.URLEncoder.encode(v).replace("+", "%20"): encodeURIComponent plus ! ' ( ) ~ encoded. */
function javaEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Python clients (cs, CloudMonkey) leave "~" unencoded; the only difference from Java's encoding. */
function pythonEncode(value: string): string {
  return javaEncode(value).replaceAll('%7E', '~');
}

export function canonicalString(params: ReadonlyMap<string, string>, encode = javaEncode): string {
  return [...params.entries()]
    .filter(([name]) => name.toLowerCase() !== 'signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${encode(value)}`)
    .join('&')
    .toLowerCase();
}

export function sign(params: ReadonlyMap<string, string>, secretKey: string): string {
  return createHmac('sha1', secretKey).update(canonicalString(params)).digest('base64');
}

/**
 * Whether `signature` is the request's HMAC-SHA1 as CloudStack writes it: standard base64 with its padding (28
 * characters, ending in "="). CloudStack compares strings, so base64url, a missing "=", junk after it or different
 * spare bits in the last character are refused even though a lenient decoder would read the same bytes.
 */
export function signatureMatches(params: ReadonlyMap<string, string>, secretKey: string, signature: string): boolean {
  const given = Buffer.from(signature, 'utf8');
  const encodings = [javaEncode];
  if ([...params.values()].some((v) => v.includes('~'))) encodings.push(pythonEncode);
  let ok = false;
  for (const encode of encodings) {
    const want = Buffer.from(createHmac('sha1', secretKey).update(canonicalString(params, encode)).digest('base64'));
    // Compare every candidate fully so timing does not depend on which one matched.
    if (given.length === want.length && timingSafeEqual(given, want)) ok = true;
  }
  return ok;
}

/** ISO-8601 with a zone, as clients send `expires` (e.g. 2026-11-26T13:10:00+0000 or ...Z). */
export function parseExpires(value: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  if (!m) return undefined;
  const zone = m[2] === 'Z' ? 'Z' : `${m[2]!.slice(0, 3)}:${m[2]!.slice(-2)}`;
  const t = Date.parse(m[1]! + zone);
  return Number.isNaN(t) ? undefined : new Date(t);
}
