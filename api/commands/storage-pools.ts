import { posix } from 'node:path';
import { and, eq, type SQL } from 'drizzle-orm';
import { storagePools } from '../../db/schema';
import { defineCommand } from '../command';
import { paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { loadNames, storagePoolView } from '../views/inventory';
import { clusterById, podById, zoneById } from './lookup';
import { isUniqueViolation } from './unique';

export const listStoragePools = defineCommand({
  name: 'listStoragePools',
  description: 'Lists storage pools',
  isAsync: false,
  params: {
    id: optional.uuid('the ID of the storage pool'),
    name: optional.string('the name of the storage pool'),
    zoneid: optional.uuid('the Zone ID for the storage pool'),
    podid: optional.uuid('the Pod ID for the storage pool'),
    clusterid: optional.uuid('list storage pools belonging to the specific cluster'),
    scope: optional.string('the scope of the storage pool: CLUSTER or ZONE', must.beOneOf('CLUSTER', 'ZONE')),
    ...listParams,
  },
  async handle(p, { db }) {
    const where: SQL[] = [];
    if (p.id) where.push(eq(storagePools.id, p.id));
    if (p.name) where.push(eq(storagePools.name, p.name));
    if (p.zoneid) where.push(eq(storagePools.zoneId, p.zoneid));
    if (p.podid) where.push(eq(storagePools.podId, p.podid));
    if (p.clusterid) where.push(eq(storagePools.clusterId, p.clusterid));
    if (p.scope) where.push(eq(storagePools.scope, p.scope.toUpperCase() as 'CLUSTER' | 'ZONE'));
    const rows = await db
      .select()
      .from(storagePools)
      .where(and(...where))
      .orderBy(storagePools.name);
    const names = await loadNames(db);
    return listResponse(
      'storagepool',
      rows.map((r) => storagePoolView(r, names)),
      p,
    );
  },
});

/** Pools are directories every host of their scope mounts at the same path (CloudStack's SharedMountPoint). */
function poolPathOf(url: string): string {
  const m = /^(sharedmountpoint|file):\/\/[^/]*(\/.*)$/i.exec(url);
  if (!m) throw paramError(`Storage pool url ${url} is not supported; use SharedMountPoint:///absolute/path.`);
  let path: string;
  try {
    path = decodeURIComponent(m[2]!);
  } catch {
    throw paramError(`Storage pool url ${url} is not a valid URL (a broken %-escape); use SharedMountPoint:///path.`);
  }
  if (posix.normalize(path) !== path || path.includes('\0') || path === '/') {
    throw paramError(`Storage pool path ${path} must be a normalized absolute directory (no "..", no trailing "/").`);
  }
  return path;
}

export const createStoragePool = defineCommand({
  name: 'createStoragePool',
  description: 'Creates a storage pool',
  isAsync: false,
  params: {
    name: required.string('the name for the storage pool', must.beName),
    zoneid: required.uuid('the Zone ID for the storage pool'),
    url: required.url('the URL of the storage pool, SharedMountPoint:///path'),
    podid: optional.uuid('the Pod ID for the storage pool'),
    clusterid: optional.uuid('the cluster ID for the storage pool'),
    scope: optional.string('the scope of the storage: cluster or zone', must.beOneOf('cluster', 'zone')),
    hypervisor: optional.string('hypervisor type of the hosts in zone that will be attached to this storage pool'),
  },
  async handle(p, { db }) {
    const zone = await zoneById(db, p.zoneid);
    // Every id the request names must exist, even one a zone-wide pool does not use.
    if (p.podid) await podById(db, p.podid);
    if (p.clusterid) await clusterById(db, p.clusterid);
    const scope = (p.scope ?? (p.clusterid ? 'cluster' : 'zone')).toUpperCase() as 'CLUSTER' | 'ZONE';
    let podId: string | undefined;
    let clusterId: string | undefined;
    if (scope === 'CLUSTER') {
      if (!p.clusterid || !p.podid) throw paramError('A cluster-scoped storage pool needs podid and clusterid.');
      const pod = await podById(db, p.podid);
      const cluster = await clusterById(db, p.clusterid);
      if (pod.zoneId !== zone.id || cluster.podId !== pod.id) {
        throw paramError(`Cluster ${cluster.name} is not in pod ${pod.name} of zone ${zone.name}.`);
      }
      podId = pod.id;
      clusterId = cluster.id;
    }
    const path = poolPathOf(p.url);
    try {
      const [pool] = await db
        .insert(storagePools)
        .values({
          name: p.name,
          zoneId: zone.id,
          podId,
          clusterId,
          scope,
          poolType: 'SharedMountPoint',
          url: p.url,
          path,
        })
        .returning();
      return { storagepool: storagePoolView(pool!, await loadNames(db)) };
    } catch (err) {
      if (isUniqueViolation(err))
        throw paramError(`A storage pool named ${p.name} already exists; choose another name.`);
      throw err;
    }
  },
});
