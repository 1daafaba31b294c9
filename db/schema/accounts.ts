// API users and their keys. The secret key is needed in clear to check signatures, so it is kept encrypted.
import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  username: text('username').notNull().unique(),
  account: text('account').notNull(),
  role: text('role').$type<'Admin' | 'User'>().notNull(),
  apiKey: text('api_key').notNull().unique(),
  secretKeyCiphertext: text('secret_key_ciphertext').notNull(),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});
