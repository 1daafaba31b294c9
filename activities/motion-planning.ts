// Planning a data motion: turn catalogue rows into the endpoints strategies rate, then let the registry choose.
// Shared by the planMotion activity (the plan is recorded in the workflow's history) and explainDataMotion.
import { and, asc, eq } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../core/failures';
import type { Db } from '../db/client';
import {
  clusters,
  hosts,
  imageStores,
  storagePools,
  templatePoolRefs,
  templates,
  templateStoreRefs,
} from '../db/schema';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';
import { findImageStoreProvider } from '../plugins/image-stores/registry';
import type { CacheOption, DiskFormat, MotionEndpoint, MotionRequest, StoreEndpoint } from '../plugins/motion/contract';
import { chooseMotion, type MotionChoice } from '../plugins/motion/registry';

/** Sources and targets by catalogue row (what workflows pass) or by place (what explainDataMotion asks about). */
export type MotionSource = { url: string } | { storeRefId: string } | { storeId: string; key: string };
export type MotionTarget =
  | { storeRefId: string }
  | { poolRefId: string }
  | { storeId: string; key: string }
  | { poolId: string; fileName: string };

export interface PlanMotionInput {
  templateId: string;
  from: MotionSource;
  to: MotionTarget;
}

const notFound = (what: string) => ApplicationFailure.nonRetryable(`${what} no longer exists`, FailureType.NotFound);

async function storeRef(db: Db, storeRefId: string): Promise<{ storeId: string; key: string }> {
  const [ref] = await db.select().from(templateStoreRefs).where(eq(templateStoreRefs.id, storeRefId));
  if (!ref) throw notFound(`template copy ${storeRefId}`);
  return { storeId: ref.storeId, key: ref.installPath };
}

async function storeEndpoint(db: Db, place: { storeId: string; key: string }): Promise<StoreEndpoint> {
  const [store] = await db.select().from(imageStores).where(eq(imageStores.id, place.storeId));
  if (!store) throw notFound(`image store ${place.storeId}`);
  const provider = findImageStoreProvider(store.provider);
  return {
    kind: 'image-store',
    storeId: store.id,
    storeName: store.name,
    key: place.key,
    serverSideCopy: provider?.capabilities.serverSideCopy ?? false,
    hostPath: provider?.capabilities.hostMountable ? store.settings.mountpath : undefined,
  };
}

/** The zone's cache store (the first by name: the cache allocator's choice is minimal until it has policies). */
async function zoneCache(db: Db, zoneId: string): Promise<CacheOption | undefined> {
  const caches = await db
    .select()
    .from(imageStores)
    .where(and(eq(imageStores.role, 'ImageCache'), eq(imageStores.zoneId, zoneId), eq(imageStores.readonly, false)))
    .orderBy(asc(imageStores.name));
  const usable = caches.find(
    (c) => findImageStoreProvider(c.provider)?.capabilities.hostMountable && c.settings.mountpath,
  );
  return usable ? { storeId: usable.id, storeName: usable.name, hostPath: usable.settings.mountpath! } : undefined;
}

async function poolRef(db: Db, poolRefId: string): Promise<{ poolId: string; fileName: string }> {
  const [ref] = await db.select().from(templatePoolRefs).where(eq(templatePoolRefs.id, poolRefId));
  if (!ref) throw notFound(`template pool copy ${poolRefId}`);
  return { poolId: ref.poolId, fileName: ref.installPath };
}

async function poolEndpoint(
  db: Db,
  place: { poolId: string; fileName: string },
): Promise<{ endpoint: MotionEndpoint; zoneId: string }> {
  const [row] = await db
    .select({ pool: storagePools, cluster: clusters })
    .from(storagePools)
    .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
    .where(eq(storagePools.id, place.poolId));
  if (!row) throw notFound(`primary storage pool ${place.poolId}`);
  const [host] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.clusterId, row.cluster.id), eq(hosts.state, 'Up')))
    .orderBy(asc(hosts.name));
  if (!host) {
    throw ApplicationFailure.nonRetryable(
      `no host of cluster ${row.cluster.name} is Up to prepare pool ${row.pool.name}`,
      FailureType.NoMotionPlan,
    );
  }
  const adapter = hypervisorAdapter(row.cluster.hypervisor);
  return {
    zoneId: row.pool.zoneId,
    endpoint: {
      kind: 'primary-pool',
      poolId: row.pool.id,
      poolName: row.pool.name,
      path: row.pool.path,
      fileName: place.fileName,
      hostId: host.id,
      targetFormat: adapter.poolFormat,
      hostPullsUrls: adapter.pullsUrls,
    },
  };
}

export async function buildMotionRequest(db: Db, input: PlanMotionInput): Promise<MotionRequest> {
  const [template] = await db.select().from(templates).where(eq(templates.id, input.templateId));
  if (!template) throw notFound(`template ${input.templateId}`);
  const source = input.from;
  const from: MotionEndpoint =
    'url' in source
      ? { kind: 'url', url: source.url }
      : await storeEndpoint(db, 'storeRefId' in source ? await storeRef(db, source.storeRefId) : source);
  const target = input.to;
  let to: MotionEndpoint;
  let cache: CacheOption | undefined;
  if ('storeRefId' in target || 'storeId' in target) {
    to = await storeEndpoint(db, 'storeRefId' in target ? await storeRef(db, target.storeRefId) : target);
  } else {
    const pool = await poolEndpoint(db, 'poolRefId' in target ? await poolRef(db, target.poolRefId) : target);
    to = pool.endpoint;
    cache = await zoneCache(db, pool.zoneId);
  }
  return {
    objectType: 'template',
    objectId: template.id,
    format: template.format as DiskFormat,
    from,
    to,
    cache,
    checksum: template.checksum ?? undefined,
  };
}

export async function planMotion(db: Db, input: PlanMotionInput): Promise<MotionChoice> {
  const choice = chooseMotion(await buildMotionRequest(db, input));
  if (!choice.plan) {
    const ratings = choice.ratings.map((r) => `${r.strategy}: ${r.priority}`).join(', ');
    throw ApplicationFailure.nonRetryable(
      `no data-motion strategy can do this move (${ratings})`,
      FailureType.NoMotionPlan,
    );
  }
  return choice;
}
