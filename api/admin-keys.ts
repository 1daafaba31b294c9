// The admin user and its API keys: taken from FERRY_ADMIN_API_KEY/SECRET_KEY on first start, else generated.
// Generated keys are written to the admin file (mode 0600) so an operator can find them.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { users } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import type { FerryConfig } from '../temporal.config';

const newKey = () => randomBytes(48).toString('base64url');

export async function ensureAdmin(db: Db, secrets: SecretBox, config: FerryConfig): Promise<{ apiKey: string }> {
  const [existing] = await db.select().from(users).where(eq(users.username, 'admin'));
  let apiKey: string;
  let secretKey: string;
  if (existing) {
    apiKey = existing.apiKey;
    secretKey = secrets.open(existing.secretKeyCiphertext);
  } else {
    apiKey = config.admin.apiKey ?? newKey();
    secretKey = config.admin.secretKey ?? newKey();
    await db
      .insert(users)
      .values({
        username: 'admin',
        account: 'admin',
        role: 'Admin',
        apiKey,
        secretKeyCiphertext: secrets.seal(secretKey),
      })
      .onConflictDoNothing();
  }
  if (!config.admin.apiKey) {
    await mkdir(dirname(config.admin.file), { recursive: true });
    await writeFile(config.admin.file, JSON.stringify({ username: 'admin', apiKey, secretKey }, null, 2) + '\n', {
      mode: 0o600,
    });
  }
  return { apiKey };
}
