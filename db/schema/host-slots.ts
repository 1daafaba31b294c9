// Sessions open on each host, shared by every worker (and API) on the same database: a row per slot in use, held
// by one session until it is released or its expiry passes (a holder that died frees its slot by itself).
import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

export const hostSessionSlots = pgTable(
  'host_session_slots',
  {
    /** address:port of the host's SSH endpoint. */
    host: text('host').notNull(),
    /** 0 … limit-1: a host has at most `limit` rows live at once. */
    slot: integer('slot').notNull(),
    /** Who holds it: process and a token of the session (diagnostics; release matches on it). */
    holder: text('holder').notNull(),
    /** Renewed while the session runs; a slot past it is free. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.host, t.slot] })],
);
