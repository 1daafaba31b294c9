// How an image store looks in responses (CloudStack's ImageStoreResponse). Secrets are not in the row's settings,
// so nothing here can show one.
import type { imageStores } from '../../db/schema';
import type { Names } from './inventory';

type ImageStore = typeof imageStores.$inferSelect;

export const imageStoreView = (s: ImageStore, n: Names) => ({
  id: s.id,
  name: s.name,
  zoneid: s.zoneId ?? undefined,
  zonename: s.zoneId ? n.zone.get(s.zoneId) : undefined,
  podid: s.podId ?? undefined,
  podname: s.podId ? n.pod.get(s.podId) : undefined,
  clusterid: s.clusterId ?? undefined,
  clustername: s.clusterId ? n.cluster.get(s.clusterId) : undefined,
  url: s.url,
  protocol: s.protocol,
  providername: s.provider,
  scope: s.scope,
  readonly: s.readonly,
  disksizetotal: s.totalBytes ?? undefined,
  disksizeused: s.usedBytes ?? undefined,
  details: Object.entries(s.settings).map(([key, value]) => ({ key, value })),
});
