// Who is calling: the user of the apiKey, if the signature over the request is theirs and the request is not expired.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import type { ApiUser } from './command';
import { ApiError, ErrorCode } from './errors';
import { CONTROL } from './params';
import { parseExpires, signatureMatches } from './signature';

const refused = (why: string) =>
  new ApiError(ErrorCode.Unauthorized, `unable to verify user credentials and/or request signature: ${why}`);

/** Case-insensitive lookup of a request parameter (clients send apiKey, apikey, signatureVersion, ...). */
export function paramOf(params: ReadonlyMap<string, string>, name: string): string | undefined {
  for (const [key, value] of params) if (key.toLowerCase() === name) return value;
  return undefined;
}

export async function authenticate(
  db: Db,
  secrets: SecretBox,
  params: ReadonlyMap<string, string>,
  now = new Date(),
): Promise<ApiUser> {
  const apiKey = paramOf(params, 'apikey');
  const signature = paramOf(params, 'signature');
  if (!apiKey || !signature) throw refused('the request must carry apiKey and signature');
  // Keys are printable and short; anything else cannot be one (and a NUL would not even reach the lookup).
  if (apiKey.length > 255 || CONTROL.test(apiKey)) throw refused('the apiKey is malformed');

  if (paramOf(params, 'signatureversion') === '3') {
    const expires = paramOf(params, 'expires');
    const at = expires === undefined ? undefined : parseExpires(expires);
    if (!at) throw refused('signatureVersion=3 needs expires as an ISO-8601 date with a zone');
    if (at.getTime() <= now.getTime()) throw refused(`the request expired at ${expires}`);
  }

  const [user] = await db.select().from(users).where(eq(users.apiKey, apiKey));
  if (!user) throw refused('the signature does not match');
  if (!signatureMatches(params, secrets.open(user.secretKeyCiphertext), signature)) {
    throw refused('the signature does not match');
  }
  return { id: user.id, username: user.username, account: user.account, role: user.role };
}
