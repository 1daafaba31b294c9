// Async jobs: one row per Temporal workflow started by the API (the jobid is the workflow id).
// Status, progress and result are read from Temporal itself, so this row never disagrees with the run.
import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './accounts';

export const asyncJobs = pgTable('async_jobs', {
  id: text('id').primaryKey(),
  command: text('command').notNull(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id),
  instanceType: text('instance_type'),
  instanceId: uuid('instance_id'),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});
