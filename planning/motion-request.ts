// Planning a data motion: turn catalogue rows into the endpoints strategies rate, then let the registry choose.
// Used by the plan builders at the API (the plan is the workflow's input, recorded in its history) and by
// explainDataMotion, so what is explained is what runs.
import { and, asc, eq } from 'drizzle-orm';
import { FailureType } from '../core/failures';
import type { Db } from '../db/client';
import { poolAndHost } from '../db/pool-host';
import { imageStores, snapshots, templatePoolRefs, templates, templateStoreRefs, volumes } from '../db/schema';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';
import { findImageStoreProvider } from '../plugins/image-stores/registry';
import type {
  CacheOption,
  DiskFormat,
  MotionEndpoint,
  MotionPlan,
  MotionRequest,
  ObjectType,
  StoreEndpoint,
} from '../plugins/motion/contract';
import { chooseMotion, type MotionChoice } from '../plugins/motion/registry';
import { PlanRefused } from './refusal';
import { chooseCacheStore, type CachePlacement } from './cache-placement';

/** Sources and targets by catalogue row (what workflows pass) or by place (what explainDataMotion asks about). */
export type MotionSource =
  { url: string } | { storeRefId: string } | { storeId: string; key: string } | { poolId: string; fileName: string };
export type MotionTarget =
  | { storeRefId: string }
  | { poolRefId: string }
  | { storeId: string; key: string }
  | { poolId: string; fileName: string };

/** What moves: a template (by `templateId`, as the first workflows recorded it) or a snapshot or volume. */
export interface PlanMotionInput {
  templateId?: string;
  object?: { type: Exclude<ObjectType, 'template'>; id: string };
  from: MotionSource;
  to: MotionTarget;
  /** The object is in use and must move live. */
  live?: boolean;
}

const notFound = (what: string) => new PlanRefused(FailureType.NotFound, `${what} no longer exists`);

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
    hostUploads: provider?.capabilities.partUploadUrls ?? false,
  };
}

/** The cache store for work on a pool at `placement`, as the configured cache allocator chooses it. */
async function cacheFor(
  db: Db,
  placement: Omit<CachePlacement, 'objectType' | 'objectId'>,
  object: { objectType: ObjectType; objectId: string },
): Promise<CacheOption | undefined> {
  const choice = await chooseCacheStore(db, { ...placement, ...object });
  if (!choice) return undefined;
  const { storeId, storeName, hostPath, cachedKey } = choice;
  return { storeId, storeName, hostPath, ...(cachedKey ? { cachedKey } : {}) };
}

async function poolRef(db: Db, poolRefId: string): Promise<{ poolId: string; fileName: string }> {
  const [ref] = await db.select().from(templatePoolRefs).where(eq(templatePoolRefs.id, poolRefId));
  if (!ref) throw notFound(`template pool copy ${poolRefId}`);
  return { poolId: ref.poolId, fileName: ref.installPath };
}

async function poolEndpoint(
  db: Db,
  place: { poolId: string; fileName: string },
): Promise<{ endpoint: MotionEndpoint; placement: Omit<CachePlacement, 'objectType' | 'objectId'> }> {
  const row = await poolAndHost(db, place.poolId);
  if (!row) throw notFound(`primary storage pool ${place.poolId}`);
  const { host } = row;
  if (!host) {
    throw new PlanRefused(
      FailureType.NoHostUp,
      `No host of cluster ${row.cluster.name} is Up to work on pool ${row.pool.name}.`,
    );
  }
  const adapter = hypervisorAdapter(row.cluster.hypervisor);
  return {
    placement: { zoneId: row.pool.zoneId, podId: row.pool.podId ?? undefined, clusterId: row.cluster.id },
    endpoint: {
      kind: 'primary-pool',
      poolId: row.pool.id,
      poolName: row.pool.name,
      clusterId: row.cluster.id,
      zoneId: row.pool.zoneId,
      path: row.pool.path,
      fileName: place.fileName,
      hostId: host.id,
      targetFormat: adapter.poolFormat,
      hostPullsUrls: adapter.pullsUrls,
    },
  };
}

/** What the object is: its type, id, format and the checksum its owner gave. */
async function describeObject(
  db: Db,
  input: PlanMotionInput,
): Promise<{ objectType: ObjectType; objectId: string; format: DiskFormat; checksum?: string; size?: number }> {
  if (input.object?.type === 'snapshot') {
    const [snapshot] = await db.select().from(snapshots).where(eq(snapshots.id, input.object.id));
    if (!snapshot) throw notFound(`snapshot ${input.object.id}`);
    const size = snapshot.physicalSize ?? undefined;
    return { objectType: 'snapshot', objectId: snapshot.id, format: snapshot.format as DiskFormat, size };
  }
  if (input.object?.type === 'volume') {
    const [volume] = await db.select().from(volumes).where(eq(volumes.id, input.object.id));
    if (!volume) throw notFound(`volume ${input.object.id}`);
    const checksum = volume.checksum ?? undefined;
    const size = volume.size ?? undefined;
    return { objectType: 'volume', objectId: volume.id, format: volume.format as DiskFormat, checksum, size };
  }
  const [template] = await db
    .select()
    .from(templates)
    .where(eq(templates.id, input.templateId ?? ''));
  if (!template) throw notFound(`template ${input.templateId}`);
  const checksum = template.checksum ?? undefined;
  const size = template.size ?? undefined;
  return { objectType: 'template', objectId: template.id, format: template.format as DiskFormat, checksum, size };
}

export async function buildMotionRequest(db: Db, input: PlanMotionInput): Promise<MotionRequest> {
  const object = await describeObject(db, input);
  const source = input.from;
  const target = input.to;
  let from: MotionEndpoint;
  let sourcePool: Awaited<ReturnType<typeof poolEndpoint>> | undefined;
  if ('url' in source) from = { kind: 'url', url: source.url };
  else if ('poolId' in source) {
    sourcePool = await poolEndpoint(db, source);
    from = sourcePool.endpoint;
  } else from = await storeEndpoint(db, 'storeRefId' in source ? await storeRef(db, source.storeRefId) : source);
  let to: MotionEndpoint;
  let targetPool: Awaited<ReturnType<typeof poolEndpoint>> | undefined;
  if ('storeRefId' in target || 'storeId' in target) {
    to = await storeEndpoint(db, 'storeRefId' in target ? await storeRef(db, target.storeRefId) : target);
  } else {
    targetPool = await poolEndpoint(db, 'poolRefId' in target ? await poolRef(db, target.poolRefId) : target);
    to = targetPool.endpoint;
  }

  let cache: CacheOption | undefined;
  let transit: StoreEndpoint | undefined;
  if (sourcePool && targetPool) {
    // Pool to pool: a cache store both hosts mount (same zone; pod-scoped only if both are in that pod), or, between
    // zones, a region store both reach.
    const a = sourcePool.placement;
    const b = targetPool.placement;
    if (a.zoneId === b.zoneId) {
      cache = await cacheFor(db, { zoneId: a.zoneId, podId: a.podId === b.podId ? a.podId : undefined }, object);
    } else {
      transit = await transitStore(db, object);
    }
  } else if (sourcePool || targetPool) {
    cache = await cacheFor(db, (targetPool ?? sourcePool)!.placement, object);
  }
  return { ...object, from, to, cache, transit, live: input.live };
}

/** A writable region store (every zone reaches it) to carry an object between zones, and where it waits there. */
async function transitStore(
  db: Db,
  object: { objectType: ObjectType; objectId: string },
): Promise<StoreEndpoint | undefined> {
  const [store] = await db
    .select()
    .from(imageStores)
    .where(and(eq(imageStores.role, 'Image'), eq(imageStores.scope, 'REGION'), eq(imageStores.readonly, false)))
    .orderBy(asc(imageStores.name));
  if (!store) return undefined;
  return await storeEndpoint(db, {
    storeId: store.id,
    key: `transit/${object.objectType}/${object.objectId}/${object.objectId}`,
  });
}

export async function planMotion(db: Db, input: PlanMotionInput): Promise<MotionChoice> {
  const request = await buildMotionRequest(db, input);
  const choice = chooseMotion(request);
  if (!choice.plan) {
    // The common field failure (CloudStack #7337): a hypervisor that needs a staging store, and the zone has none.
    const pool = [request.from, request.to].find((e) => e.kind === 'primary-pool' && !e.hostPullsUrls);
    if (pool?.kind === 'primary-pool' && !request.cache) {
      throw new PlanRefused(
        FailureType.NoMotionPlan,
        `Pool ${pool.poolName} has no usable cache (staging) store: its hosts cannot read or write object stores ` +
          'directly, so data must be staged; add one with createSecondaryStagingStore in its zone.',
      );
    }
    const ratings = choice.ratings.map((r) => `${r.strategy}: ${r.priority}`).join(', ');
    throw new PlanRefused(FailureType.NoMotionPlan, `No data-motion strategy can do this move (${ratings}).`);
  }
  return choice;
}

/** The winning strategy's plan for a move, or PlanRefused saying why there is none. */
export async function motionPlan(db: Db, input: PlanMotionInput): Promise<MotionPlan> {
  return (await planMotion(db, input)).plan!;
}

/** How plan builders get the motion of a move: from the catalogue at the API, from a table in workflow tests. */
export type Route = (input: PlanMotionInput) => Promise<MotionPlan>;

export const routeIn =
  (db: Db): Route =>
  (input) =>
    motionPlan(db, input);
