// What lives on cache (staging) stores and who is using it. CloudStack keeps a ref_cnt on the store_ref row and
// loses it when a management server dies; here each user holds a lease with an expiry, so a dead worker's claim
// ends by itself (expireCacheLeases) and eviction never removes bytes someone is still reading or writing.
import type { CacheLeaseState } from '../../core/state-machine';
import { bigint, index, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { imageStores } from './image-stores';

export type CacheObjectType = 'template' | 'snapshot' | 'volume';
export type CacheObjectState = 'Creating' | 'Ready' | 'Evicted';
export type { CacheLeaseState } from '../../core/state-machine';

/** One object (by key) on one cache store. Evicted rows stay as history until the store is deleted. */
export const cacheObjects = pgTable(
  'cache_objects',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: uuid('store_id')
      .notNull()
      .references(() => imageStores.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    objectType: text('object_type').$type<CacheObjectType>().notNull(),
    objectId: uuid('object_id').notNull(),
    size: bigint('size', { mode: 'number' }).notNull().default(0),
    state: text('state').$type<CacheObjectState>().notNull().default('Creating'),
    /** Least-recently-used eviction orders by this; reserving and releasing with keepObject touch it. */
    lastUsed: timestamp('last_used', { withTimezone: true }).notNull().defaultNow(),
    created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
    updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('cache_objects_store_key').on(t.storeId, t.key), index().on(t.objectType, t.objectId)],
);

/** A holder's (a workflow id) claim on a key of a cache store, for `bytes`, until `expiresAt` unless renewed. */
export const cacheLeases = pgTable(
  'cache_leases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    storeId: uuid('store_id')
      .notNull()
      .references(() => imageStores.id, { onDelete: 'cascade' }),
    holder: text('holder').notNull(),
    key: text('key').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    state: text('state').$type<CacheLeaseState>().notNull().default('Active'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
    released: timestamp('released', { withTimezone: true }),
  },
  // One lease per holder and key on a store: a retried reserve finds it instead of taking a second one.
  (t) => [unique('cache_leases_holder_key').on(t.storeId, t.holder, t.key), index().on(t.state, t.expiresAt)],
);
