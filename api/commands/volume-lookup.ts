// Lookups the volume and snapshot commands share: live volumes and snapshots, the pool a new volume goes to, the
// host that works on a pool, and the image stores a zone can reach.
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { clusters, hosts, imageStores, snapshots, storagePools, volumes, type SnapshotState } from '../../db/schema';
import { hypervisorAdapter } from '../../plugins/hypervisors/registry';
import { poolAndHost } from '../../db/pool-host';
import type { CommandContext } from '../command';
import { ApiError, ErrorCode, notFound, paramError } from '../errors';
import { EXTENSION } from './template-lookup';

/** Snapshot states while its job still works on the volume (a second snapshot or a delete must wait). */
export const SNAPSHOT_IN_PROGRESS: SnapshotState[] = ['Allocated', 'Creating', 'CreatedOnPrimary', 'BackingUp'];

/** A volume that exists (not destroyed or expunged). */
export async function volumeById(ctx: CommandContext, id: string) {
  const [v] = await ctx.db
    .select()
    .from(volumes)
    .where(and(eq(volumes.id, id), isNull(volumes.removed)));
  if (!v || v.state === 'Destroy' || v.state === 'Expunged') throw notFound('Volume', id);
  return v;
}

export async function snapshotById(ctx: CommandContext, id: string) {
  const [s] = await ctx.db
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.id, id), isNull(snapshots.removed)));
  if (!s || s.state === 'Destroyed') throw notFound('Snapshot', id);
  return s;
}

/** The pool with its cluster and the host that works on it; 534 if none of the cluster's hosts is Up. */
export async function poolWithHost(ctx: CommandContext, poolId: string) {
  const row = await poolAndHost(ctx.db, poolId);
  if (!row) throw notFound('StoragePool', poolId);
  const { host } = row;
  if (!host) {
    throw new ApiError(
      ErrorCode.ResourceUnavailable,
      `No host of cluster ${row.cluster.name} is Up to work on pool ${row.pool.name}; bring a host back first.`,
    );
  }
  return { ...row, host, adapter: hypervisorAdapter(row.cluster.hypervisor) };
}

/** Where a new volume goes: the pool asked for (in the zone), else the zone's first pool with an Up host. */
export async function choosePool(ctx: CommandContext, zoneId: string, storageId?: string, hypervisor?: string) {
  if (storageId) {
    const chosen = await poolWithHost(ctx, storageId);
    if (chosen.pool.zoneId !== zoneId) {
      throw paramError(`Storage pool ${chosen.pool.name} is not in the volume's zone; pick a pool of that zone.`);
    }
    return chosen;
  }
  const pools = await ctx.db
    .select({ pool: storagePools, cluster: clusters })
    .from(storagePools)
    .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
    .innerJoin(hosts, and(eq(hosts.clusterId, clusters.id), eq(hosts.state, 'Up')))
    .where(eq(storagePools.zoneId, zoneId))
    .orderBy(asc(storagePools.name));
  const match = pools.find((p) => p.cluster.hypervisor === hypervisor) ?? pools[0];
  if (!match) {
    throw new ApiError(ErrorCode.InsufficientCapacity, 'The zone has no primary storage pool with an Up host.');
  }
  return await poolWithHost(ctx, match.pool.id);
}

/** A volume's file name on its pool: its id and the pool format's extension (never the name the user gave). */
export const volumeFileName = (volumeId: string, format: string) => `${volumeId}.${EXTENSION[format] ?? 'img'}`;

/** Image stores a zone reaches: its own and the region's. */
export const reachableFrom = (zoneId: string) => or(eq(imageStores.zoneId, zoneId), eq(imageStores.scope, 'REGION'));

/** Writable image stores for a new object of the zone, in preference order (`regionFirst` for snapshots). */
export async function storesForZone(ctx: CommandContext, zoneId: string, regionFirst: boolean) {
  const stores = await ctx.db
    .select()
    .from(imageStores)
    .where(and(eq(imageStores.role, 'Image'), eq(imageStores.readonly, false), reachableFrom(zoneId)))
    .orderBy(asc(imageStores.name));
  const region = stores.filter((s) => s.scope === 'REGION');
  const zone = stores.filter((s) => s.scope !== 'REGION');
  return regionFirst ? [...region, ...zone] : [...zone, ...region];
}
