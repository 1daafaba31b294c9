import { readFile } from 'node:fs/promises';
import { fingerprintOf } from './fingerprint';

/** The SHA256 fingerprint of an OpenSSH public key file (`ssh-ed25519 AAAA... comment`). */
export async function fingerprintOfPublicKeyFile(path: string): Promise<string> {
  const [, blob] = (await readFile(path, 'utf8')).trim().split(/\s+/);
  if (!blob) throw new Error(`${path} is not an OpenSSH public key`);
  return fingerprintOf(Buffer.from(blob, 'base64'));
}
