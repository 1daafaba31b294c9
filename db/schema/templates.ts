// Templates (and ISOs) and where each lives: one store-ref row per image store holding it (CloudStack's
// template_store_ref) and one pool-ref row per primary pool it was prepared on (template_spool_ref).
import { bigint, boolean, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { CopyState, TemplateState } from '../../core/state-machine';
import type { MultipartState } from '../../core/multipart-state';
import { users } from './accounts';
import { imageStores } from './image-stores';
import { storagePools, zones } from './inventory';

/** CloudStack's ObjectInDataStore states (core/state-machine.ts has their transitions). */
export type StoreRefState = CopyState;

export const templates = pgTable('templates', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  displayText: text('display_text').notNull(),
  format: text('format').notNull(),
  hypervisor: text('hypervisor').notNull(),
  /** The URL it was registered from. */
  url: text('url').notNull(),
  /** What the user gave: "{SHA-256}hex", "{MD5}hex" or bare MD5 hex. */
  checksum: text('checksum'),
  /** SHA-256 computed while the bytes streamed in. */
  sha256: text('sha256'),
  /** Bytes of the image as registered (what a store holds): CloudStack's physicalsize. */
  size: bigint('size', { mode: 'number' }),
  /** The guest-visible size the image's header gives, learned as it streams in: CloudStack's size. */
  virtualSize: bigint('virtual_size', { mode: 'number' }),
  isPublic: boolean('is_public').notNull().default(false),
  /** Region-wide: one copy on a region store serves every zone. */
  crossZones: boolean('cross_zones').notNull(),
  ownerId: uuid('owner_id')
    .notNull()
    .references(() => users.id),
  state: text('state').$type<TemplateState>().notNull().default('Active'),
  removed: timestamp('removed', { withTimezone: true }),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});

export const templateStoreRefs = pgTable(
  'template_store_refs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id),
    storeId: uuid('store_id')
      .notNull()
      .references(() => imageStores.id),
    /** The zone this copy serves; null for a region-wide copy. */
    zoneId: uuid('zone_id').references(() => zones.id),
    state: text('state').$type<StoreRefState>().notNull().default('Allocated'),
    installPath: text('install_path').notNull(),
    size: bigint('size', { mode: 'number' }),
    downloadPercent: integer('download_percent').notNull().default(0),
    /** The multipart upload in progress (parts the store confirmed), saved after every part so a retry resumes. */
    transferState: jsonb('transfer_state').$type<MultipartState>(),
    errorText: text('error_text'),
    jobId: text('job_id'),
    updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.templateId, t.storeId)],
);

export const templatePoolRefs = pgTable(
  'template_pool_refs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id),
    poolId: uuid('pool_id')
      .notNull()
      .references(() => storagePools.id),
    state: text('state').$type<StoreRefState>().notNull().default('Allocated'),
    /** File name on the pool, in the pool's hypervisor format. */
    installPath: text('install_path').notNull(),
    format: text('format').notNull(),
    size: bigint('size', { mode: 'number' }),
    errorText: text('error_text'),
    jobId: text('job_id'),
    updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.templateId, t.poolId)],
);
