// Cache ("secondary staging") stores: where data waits between an object store and hosts that cannot reach it
// (XenServer). They are image-store rows with role ImageCache, served by the same providers (NFS), scoped to a
// zone, or narrowed to one pod or cluster whose hosts mount them.
import { cacheStoreUsage } from '../../planning/cache-placement';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { listResponse } from '../list';
import { must, optional, required } from '../params';
import {
  addImageStoreRow,
  deleteEmptyStore,
  imageStoreListParams,
  listImageStoreRows,
  storeById,
  type NewImageStore,
} from './image-stores';
import { clusterById, podById, zoneById } from './lookup';

/** Checks scope, podid and clusterid against the zone; returns the narrowing to store (none for zone scope). */
async function stagingScope(
  ctx: CommandContext,
  p: { zoneid: string; scope?: string | undefined; podid?: string | undefined; clusterid?: string | undefined },
): Promise<NewImageStore['within']> {
  const scope = (p.scope ?? (p.clusterid ? 'cluster' : p.podid ? 'pod' : 'zone')).toUpperCase();
  const zone = await zoneById(ctx.db, p.zoneid);
  if (scope === 'ZONE') {
    if (p.podid || p.clusterid) {
      throw paramError('A zone-wide staging store takes no podid or clusterid; use scope=pod or scope=cluster.');
    }
    return undefined;
  }
  if (scope === 'POD') {
    if (!p.podid) throw paramError('A pod-scoped staging store needs podid (listPods gives the ids).');
    if (p.clusterid) throw paramError('A pod-scoped staging store takes no clusterid; use scope=cluster.');
    const pod = await podById(ctx.db, p.podid);
    if (pod.zoneId !== zone.id)
      throw paramError(`Pod ${pod.name} is not in zone ${zone.name}; give a pod of that zone.`);
    return { scope: 'POD', podId: pod.id };
  }
  if (!p.clusterid) throw paramError('A cluster-scoped staging store needs clusterid (listClusters gives the ids).');
  const cluster = await clusterById(ctx.db, p.clusterid);
  if (cluster.zoneId !== zone.id) {
    throw paramError(`Cluster ${cluster.name} is not in zone ${zone.name}; give a cluster of that zone.`);
  }
  if (p.podid && p.podid !== cluster.podId) {
    throw paramError(`Cluster ${cluster.name} is not in pod ${p.podid}; leave podid out or give the cluster's pod.`);
  }
  return { scope: 'CLUSTER', podId: cluster.podId, clusterId: cluster.id };
}

export const createSecondaryStagingStore = defineCommand({
  name: 'createSecondaryStagingStore',
  description: 'create secondary staging store (a cache store) for a zone, or for one pod or cluster of it',
  isAsync: false,
  params: {
    url: required.url('the URL for the staging store, nfs://server/path'),
    zoneid: required.uuid('the Zone ID for the staging store'),
    provider: optional.string('the staging store provider name (default NFS)'),
    scope: optional.string(
      'the scope of the staging store: zone (default), pod (needs podid) or cluster (needs clusterid)',
      must.beOneOf('zone', 'pod', 'cluster'),
    ),
    podid: optional.uuid('the Pod ID whose hosts use the staging store (scope pod)'),
    clusterid: optional.uuid('the Cluster ID whose hosts use the staging store (scope cluster)'),
    name: optional.string('the name for the staging store', must.beName),
    details: optional.map('the details for the staging store (NFS: sshurl, hostkeyfingerprint, sshuser, mountpath)'),
  },
  async handle(p, ctx) {
    const within = await stagingScope(ctx, p);
    const store = await addImageStoreRow(ctx, {
      url: p.url,
      zoneid: p.zoneid,
      name: p.name,
      details: p.details,
      role: 'ImageCache',
      provider: p.provider ?? 'NFS',
      within,
    });
    return { secondarystorage: store };
  },
});

export const listSecondaryStagingStores = defineCommand({
  name: 'listSecondaryStagingStores',
  description: 'Lists secondary staging stores',
  isAsync: false,
  params: imageStoreListParams,
  async handle(p, ctx) {
    return listResponse('imagestore', await listImageStoreRows(ctx, p, 'ImageCache'), p);
  },
});

export const deleteSecondaryStagingStore = defineCommand({
  name: 'deleteSecondaryStagingStore',
  description: 'Deletes a secondary staging store; refused while leases or staged objects use it, or it holds files',
  isAsync: false,
  params: { id: required.uuid('the staging store ID') },
  async handle(p, ctx) {
    const store = await storeById(ctx, p.id, 'ImageCache');
    const usage = await cacheStoreUsage(ctx.db, store.id);
    if (usage.activeLeases > 0 || usage.objects > 0) {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Staging store ${store.name} is in use by ${usage.activeLeases} active leases and holds ${usage.objects} ` +
          `staged objects; wait for the jobs using it to end and for eviction (the evictCache schedule) to free it.`,
      );
    }
    return await deleteEmptyStore(ctx, store);
  },
});
