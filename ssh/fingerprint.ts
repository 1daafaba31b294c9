// OpenSSH-style SHA256 fingerprints ("SHA256:" + unpadded base64 of the key blob's SHA-256), compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export function fingerprintOf(hostKeyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(hostKeyBlob).digest('base64').replace(/=+$/, '');
}

export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function fingerprintMatches(hostKeyBlob: Buffer, pinned: string): boolean {
  const seen = Buffer.from(fingerprintOf(hostKeyBlob));
  const want = Buffer.from(pinned);
  return seen.length === want.length && timingSafeEqual(seen, want);
}
