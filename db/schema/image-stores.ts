// Image stores (role Image) and cache stores (role ImageCache, "secondary staging stores"): one row per store,
// settings in clear, secrets sealed (CloudStack's image_store + image_store_details).
import { bigint, boolean, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { clusters, pods, zones } from './inventory';

export const imageStores = pgTable('image_stores', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  provider: text('provider').notNull(),
  role: text('role').$type<'Image' | 'ImageCache'>().notNull().default('Image'),
  /** Image stores are ZONE or REGION; cache stores ZONE, POD or CLUSTER (the hosts that can mount them). */
  scope: text('scope').$type<'ZONE' | 'REGION' | 'POD' | 'CLUSTER'>().notNull(),
  zoneId: uuid('zone_id').references(() => zones.id),
  podId: uuid('pod_id').references(() => pods.id),
  clusterId: uuid('cluster_id').references(() => clusters.id),
  url: text('url').notNull(),
  protocol: text('protocol').notNull(),
  settings: jsonb('settings').$type<Record<string, string>>().notNull(),
  secretsCiphertext: text('secrets_ciphertext'),
  readonly: boolean('readonly').notNull().default(false),
  totalBytes: bigint('total_bytes', { mode: 'number' }),
  usedBytes: bigint('used_bytes', { mode: 'number' }),
  created: timestamp('created', { withTimezone: true }).notNull().defaultNow(),
});
