// Settings an operator changed from their defaults (see core/settings.ts for the catalogue).
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const configuration = pgTable('configuration', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
});
