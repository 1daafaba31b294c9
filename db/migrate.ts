// Applies the committed migrations (db/migrations) to DATABASE_URL. Run by `./ferry up` and the tests.
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { openDb } from './client';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export async function applyMigrations(databaseUrl: string): Promise<void> {
  const handle = openDb(databaseUrl, { max: 1 });
  try {
    await migrate(handle.db, { migrationsFolder });
  } finally {
    await handle.close();
  }
}

// As a script it reads DATABASE_URL itself: db/ sits below temporal.config.ts, and needs nothing else of it.
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// URL (./ferry sets it)');
  await applyMigrations(url);
}
