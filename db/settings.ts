// Reading and writing the operator's settings; a setting never changed reads as its default.
import { eq } from 'drizzle-orm';
import { findSetting } from '../core/settings';
import type { Db } from './client';
import { configuration } from './schema';

export async function readSetting(db: Db, name: string): Promise<string> {
  const spec = findSetting(name);
  if (!spec) throw new Error(`unknown setting ${name}`);
  const [row] = await db.select().from(configuration).where(eq(configuration.name, spec.name));
  return row?.value ?? spec.defaultValue;
}

export async function writeSetting(db: Db, name: string, value: string): Promise<void> {
  await db
    .insert(configuration)
    .values({ name, value })
    .onConflictDoUpdate({ target: configuration.name, set: { value, updated: new Date() } });
}
