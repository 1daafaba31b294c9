import { and, eq, type SQL } from 'drizzle-orm';
import { clusters } from '../../db/schema';
import { findHypervisor, hypervisorTypes } from '../../plugins/hypervisors/registry';
import { defineCommand } from '../command';
import { paramError } from '../errors';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { clusterView, loadNames } from '../views/inventory';
import { podById, zoneById } from './lookup';
import { isUniqueViolation } from './unique';

export const listClusters = defineCommand({
  name: 'listClusters',
  description: 'Lists clusters',
  isAsync: false,
  params: {
    id: optional.uuid('lists clusters by the cluster ID'),
    name: optional.string('lists clusters by the cluster name'),
    zoneid: optional.uuid('lists clusters by Zone ID'),
    podid: optional.uuid('lists clusters by Pod ID'),
    hypervisor: optional.string('lists clusters by hypervisor type'),
    ...listParams,
  },
  async handle(p, { db }) {
    const where: SQL[] = [];
    if (p.id) where.push(eq(clusters.id, p.id));
    if (p.name) where.push(eq(clusters.name, p.name));
    if (p.zoneid) where.push(eq(clusters.zoneId, p.zoneid));
    if (p.podid) where.push(eq(clusters.podId, p.podid));
    if (p.hypervisor) where.push(eq(clusters.hypervisor, findHypervisor(p.hypervisor)?.hypervisor ?? p.hypervisor));
    const rows = await db
      .select()
      .from(clusters)
      .where(and(...where))
      .orderBy(clusters.name);
    const names = await loadNames(db);
    return listResponse(
      'cluster',
      rows.map((r) => clusterView(r, names)),
      p,
    );
  },
});

export const addCluster = defineCommand({
  name: 'addCluster',
  description: 'Adds a new cluster',
  isAsync: false,
  params: {
    clustername: required.string('the cluster name', must.beName),
    zoneid: required.uuid('the Zone ID for the cluster'),
    podid: required.uuid('the Pod ID for the host'),
    hypervisor: required.string(`hypervisor type of the cluster: ${hypervisorTypes.join(', ')}`, (v) =>
      must.beOneOf(...hypervisorTypes)(v),
    ),
    clustertype: optional.string(
      'type of the cluster: CloudManaged, ExternalManaged',
      must.beOneOf('CloudManaged', 'ExternalManaged'),
    ),
  },
  async handle(p, { db }) {
    const zone = await zoneById(db, p.zoneid);
    const pod = await podById(db, p.podid);
    if (pod.zoneId !== zone.id)
      throw paramError(`Pod ${pod.name} is not in zone ${zone.name}; pick a pod of that zone.`);
    try {
      const [cluster] = await db
        .insert(clusters)
        .values({
          name: p.clustername,
          zoneId: zone.id,
          podId: pod.id,
          hypervisor: findHypervisor(p.hypervisor)!.hypervisor,
          clusterType: p.clustertype?.toLowerCase() === 'externalmanaged' ? 'ExternalManaged' : 'CloudManaged',
        })
        .returning();
      return { count: 1, cluster: [clusterView(cluster!, await loadNames(db))] };
    } catch (err) {
      if (isUniqueViolation(err))
        throw paramError(`A cluster named ${p.clustername} already exists; choose another name.`);
      throw err;
    }
  },
});
