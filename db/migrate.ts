// Applies the committed migrations (db/migrations) to DATABASE_URL. Run by `./ferry up` and the tests.
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { loadConfig } from '../temporal.config';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  await applyMigrations(loadConfig().databaseUrl);
}
