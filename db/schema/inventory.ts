// The physical inventory: zones, pods, clusters, hypervisor hosts and the primary storage pools they see.
import type { HostState } from '../../core/state-machine';
import { bigint, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const created = () => timestamp('created', { withTimezone: true }).notNull().defaultNow();

export const zones = pgTable('zones', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  description: text('description'),
  networkType: text('network_type').notNull().default('Advanced'),
  allocationState: text('allocation_state').notNull().default('Enabled'),
  created: created(),
});

export const pods = pgTable('pods', {
  id: uuid('id').primaryKey().defaultRandom(),
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  name: text('name').notNull().unique(),
  gateway: text('gateway'),
  netmask: text('netmask'),
  startIp: text('start_ip'),
  endIp: text('end_ip'),
  allocationState: text('allocation_state').notNull().default('Enabled'),
  created: created(),
});

export const clusters = pgTable('clusters', {
  id: uuid('id').primaryKey().defaultRandom(),
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  podId: uuid('pod_id')
    .notNull()
    .references(() => pods.id),
  name: text('name').notNull().unique(),
  hypervisor: text('hypervisor').notNull(),
  clusterType: text('cluster_type').notNull().default('CloudManaged'),
  allocationState: text('allocation_state').notNull().default('Enabled'),
  created: created(),
});

export type { HostState } from '../../core/state-machine';

export const hosts = pgTable('hosts', {
  id: uuid('id').primaryKey().defaultRandom(),
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  podId: uuid('pod_id')
    .notNull()
    .references(() => pods.id),
  clusterId: uuid('cluster_id')
    .notNull()
    .references(() => clusters.id),
  name: text('name').notNull().unique(),
  hypervisor: text('hypervisor').notNull(),
  address: text('address').notNull(),
  sshPort: integer('ssh_port').notNull(),
  username: text('username').notNull(),
  /** How Ferry logs in: its own key pair, or a password / private key given to addHost (kept encrypted). */
  credentialKind: text('credential_kind').$type<'ferry-key' | 'password' | 'private-key'>().notNull(),
  credentialCiphertext: text('credential_ciphertext'),
  hostKeyFingerprint: text('host_key_fingerprint').notNull(),
  state: text('state').$type<HostState>().notNull().default('Connecting'),
  resourceState: text('resource_state').notNull().default('Enabled'),
  lastError: text('last_error'),
  hypervisorVersion: text('hypervisor_version'),
  qemuImgVersion: text('qemu_img_version'),
  lastProbed: timestamp('last_probed', { withTimezone: true }),
  created: created(),
});

export const storagePools = pgTable('storage_pools', {
  id: uuid('id').primaryKey().defaultRandom(),
  zoneId: uuid('zone_id')
    .notNull()
    .references(() => zones.id),
  podId: uuid('pod_id').references(() => pods.id),
  clusterId: uuid('cluster_id').references(() => clusters.id),
  name: text('name').notNull().unique(),
  scope: text('scope').$type<'CLUSTER' | 'ZONE'>().notNull(),
  poolType: text('pool_type').notNull(),
  url: text('url').notNull(),
  /** The pool's directory on every host that sees it. */
  path: text('path').notNull(),
  state: text('state').notNull().default('Up'),
  capacityBytes: bigint('capacity_bytes', { mode: 'number' }),
  availableBytes: bigint('available_bytes', { mode: 'number' }),
  created: created(),
});

/** What a host saw of a pool when it was last probed (CloudStack's storage_pool_host_ref). */
export const storagePoolHosts = pgTable(
  'storage_pool_hosts',
  {
    poolId: uuid('pool_id')
      .notNull()
      .references(() => storagePools.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => hosts.id, { onDelete: 'cascade' }),
    capacityBytes: bigint('capacity_bytes', { mode: 'number' }).notNull(),
    availableBytes: bigint('available_bytes', { mode: 'number' }).notNull(),
    updated: timestamp('updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.hostId] })],
);
