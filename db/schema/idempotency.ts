// Idempotency keys: the first request of an account with a key claims its row (the primary key makes the claim
// atomic), runs, and stores its answer; a repeat of that request, concurrent or later, gets that answer instead of
// running again (api/idempotency.ts).
import { integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './accounts';

/** Running: its first request is being handled. Done: answered for good. Failed: refused, nothing done, retryable. */
export type IdempotencyState = 'Running' | 'Done' | 'Failed';

/** What the request answered: the response body, or the error a replay raises again. */
export type IdempotentReply = { body: Record<string, unknown> } | { error: { code: number; text: string } };

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    account: text('account').notNull(),
    key: text('key').notNull(),
    command: text('command').notNull(),
    /** Keyed hash of the parsed parameters: the same key with other parameters is a mistake, not a repeat. */
    paramsHash: text('params_hash').notNull(),
    state: text('state').$type<IdempotencyState>().notNull().default('Running'),
    /** Bumped when a Failed key is claimed again, so an answer is stored only by the request that claimed it. */
    attempt: integer('attempt').notNull().default(1),
    reply: jsonb('reply').$type<IdempotentReply>(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    claimed: timestamp('claimed', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.account, t.key] })],
);
