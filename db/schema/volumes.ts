// Volumes (disk images on primary pools) and their snapshots, with the copies each has on image stores
// (CloudStack's volumes + volume_store_ref, snapshots + snapshot_store_ref).
import { bigint, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import type { SnapshotState, VolumeState } from '../../core/state-machine';
import type { MultipartState } from '../../core/multipart-state';
import { users } from './accounts';
import { imageStores } from './image-stores';
import { storagePools, zones } from './inventory';
import { templates, type StoreRefState } from './templates';

export type { SnapshotState, VolumeState } from '../../core/state-machine';

export const volumes = pgTable('volumes', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** Whatever the user typed: shown, never put into a command (files are named by id). */
  name: text('name').notNull(),
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  /** The primary pool holding the disk; null while the volume exists only on an image store (uploaded). */
  poolId: uuid('pool_id').references(() => storagePools.id),
  /** File name on the pool. */
  path: text('path'),
  format: text('format').notNull(),
  /** Virtual (guest-visible) size in bytes. */
  size: bigint('size', { mode: 'number' }),
  /** Bytes the disk takes on its pool (a thin disk: less than its size), when a host measured it. */
  physicalSize: bigint('physical_size', { mode: 'number' }),
  state: text('state').$type<VolumeState>().notNull().default('Allocated'),
  templateId: uuid('template_id').references(() => templates.id),
  snapshotId: uuid('snapshot_id'),
  /** The pool a migration in progress moves it to (counted against the pool's limit of concurrent migrations). */
  migratingTo: uuid('migrating_to').references(() => storagePools.id),
  /** uploadVolume: where it came from and the checksum the user gave. */
  url: text('url'),
  checksum: text('checksum'),
  errorText: text('error_text'),
  ownerId: uuid('owner_id')
    .notNull()
    .references(() => users.id),
  jobId: text('job_id'),
  removed: timestamp('removed', { withTimezone: true }),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});

/** What every copy of an object on an image store records (CloudStack's *_store_ref): where, state, transfer. */
const storeRefColumns = () => ({
  storeId: uuid('store_id')
    .notNull()
    .references(() => imageStores.id),
  state: text('state').$type<StoreRefState>().notNull().default('Allocated'),
  installPath: text('install_path').notNull(),
  size: bigint('size', { mode: 'number' }),
  sha256: text('sha256'),
  downloadPercent: integer('download_percent').notNull().default(0),
  transferState: jsonb('transfer_state').$type<MultipartState>(),
  errorText: text('error_text'),
  jobId: text('job_id'),
  updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
});

/** A volume's copy on an image store: an upload waiting to be used, or an extraction. */
export const volumeStoreRefs = pgTable(
  'volume_store_refs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    volumeId: uuid('volume_id')
      .notNull()
      .references(() => volumes.id),
    ...storeRefColumns(),
  },
  (t) => [unique().on(t.volumeId, t.storeId)],
);

export const snapshots = pgTable('snapshots', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  volumeId: uuid('volume_id')
    .notNull()
    .references(() => volumes.id),
  /** The volume's zone when it was taken. */
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  /** The format of the backed-up copy (the volume's pool format). */
  format: text('format').notNull(),
  state: text('state').$type<SnapshotState>().notNull().default('Allocated'),
  /** Virtual size of the volume when taken, and bytes of the backup. */
  size: bigint('size', { mode: 'number' }),
  physicalSize: bigint('physical_size', { mode: 'number' }),
  /** The snapshot on primary storage, as its hypervisor adapter names it; null once removed. */
  primaryHandle: text('primary_handle'),
  errorText: text('error_text'),
  ownerId: uuid('owner_id')
    .notNull()
    .references(() => users.id),
  jobId: text('job_id'),
  removed: timestamp('removed', { withTimezone: true }),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});

export const snapshotStoreRefs = pgTable(
  'snapshot_store_refs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    snapshotId: uuid('snapshot_id')
      .notNull()
      .references(() => snapshots.id),
    ...storeRefColumns(),
  },
  (t) => [unique().on(t.snapshotId, t.storeId)],
);
