// How inventory rows look in API responses (CloudStack's ZoneResponse, PodResponse, ...).
import type { Db } from '../../db/client';
import type { storagePools, hosts } from '../../db/schema';
import { clusters, pods, zones } from '../../db/schema';
import { csDate } from './format';

type Zone = typeof zones.$inferSelect;
type Pod = typeof pods.$inferSelect;
type Cluster = typeof clusters.$inferSelect;
type Host = typeof hosts.$inferSelect;
type Pool = typeof storagePools.$inferSelect;

/** Names of the zones, pods and clusters, to show next to their ids. */
export interface Names {
  zone: Map<string, string>;
  pod: Map<string, string>;
  cluster: Map<string, string>;
}

export async function loadNames(db: Db): Promise<Names> {
  const [z, p, c] = await Promise.all([
    db.select({ id: zones.id, name: zones.name }).from(zones),
    db.select({ id: pods.id, name: pods.name }).from(pods),
    db.select({ id: clusters.id, name: clusters.name }).from(clusters),
  ]);
  const map = (rows: { id: string; name: string }[]) => new Map(rows.map((r) => [r.id, r.name]));
  return { zone: map(z), pod: map(p), cluster: map(c) };
}

export const zoneView = (z: Zone) => ({
  id: z.id,
  name: z.name,
  description: z.description ?? undefined,
  networktype: z.networkType,
  allocationstate: z.allocationState,
  created: csDate(z.created),
});

export const podView = (p: Pod, n: Names) => ({
  id: p.id,
  name: p.name,
  zoneid: p.zoneId,
  zonename: n.zone.get(p.zoneId),
  gateway: p.gateway ?? undefined,
  netmask: p.netmask ?? undefined,
  startip: p.startIp ?? undefined,
  endip: p.endIp ?? undefined,
  allocationstate: p.allocationState,
});

export const clusterView = (c: Cluster, n: Names) => ({
  id: c.id,
  name: c.name,
  zoneid: c.zoneId,
  zonename: n.zone.get(c.zoneId),
  podid: c.podId,
  podname: n.pod.get(c.podId),
  hypervisortype: c.hypervisor,
  clustertype: c.clusterType,
  allocationstate: c.allocationState,
});

export const hostView = (h: Host, n: Names) => ({
  id: h.id,
  name: h.name,
  type: 'Routing',
  state: h.state,
  resourcestate: h.resourceState,
  ipaddress: h.address,
  zoneid: h.zoneId,
  zonename: n.zone.get(h.zoneId),
  podid: h.podId,
  podname: n.pod.get(h.podId),
  clusterid: h.clusterId,
  clustername: n.cluster.get(h.clusterId),
  hypervisor: h.hypervisor,
  hypervisorversion: h.hypervisorVersion ?? undefined,
  qemuimgversion: h.qemuImgVersion ?? undefined,
  hostkeyfingerprint: h.hostKeyFingerprint,
  lasterror: h.lastError ?? undefined,
  lastpinged: csDate(h.lastProbed),
  created: csDate(h.created),
});

export const storagePoolView = (p: Pool, n: Names) => ({
  id: p.id,
  name: p.name,
  zoneid: p.zoneId,
  zonename: n.zone.get(p.zoneId),
  podid: p.podId ?? undefined,
  podname: p.podId ? n.pod.get(p.podId) : undefined,
  clusterid: p.clusterId ?? undefined,
  clustername: p.clusterId ? n.cluster.get(p.clusterId) : undefined,
  scope: p.scope,
  type: p.poolType,
  path: p.path,
  state: p.state,
  disksizetotal: p.capacityBytes ?? undefined,
  disksizeused: p.capacityBytes != null && p.availableBytes != null ? p.capacityBytes - p.availableBytes : undefined,
  created: csDate(p.created),
});
