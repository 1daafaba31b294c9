// Checksums users give with registerTemplate/uploadVolume: "{SHA-256}hex", "{MD5}hex", or bare hex (MD5 or SHA-256
// by length), as CloudStack accepts them.

export interface Checksum {
  algorithm: 'sha256' | 'md5';
  hex: string;
}

export function parseChecksum(value: string): Checksum | undefined {
  const m = /^(?:\{(SHA-?256|MD5)\})?([0-9a-fA-F]+)$/i.exec(value.trim());
  if (!m) return undefined;
  const hex = m[2]!.toLowerCase();
  const named = m[1]?.toUpperCase().replace('-', '');
  const algorithm = named === 'SHA256' ? 'sha256' : named === 'MD5' ? 'md5' : hex.length === 64 ? 'sha256' : 'md5';
  return hex.length === (algorithm === 'sha256' ? 64 : 32) ? { algorithm, hex } : undefined;
}
