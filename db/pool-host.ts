// A primary pool, its cluster, and the host that does the pool's disk work: the first host of the cluster that is
// Up, by name (hosts of a cluster all see its pools). Shared by planning, host activities and the API's checks.
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from './client';
import { clusters, hosts, storagePools } from './schema';

export async function poolAndHost(db: Db, poolId: string) {
  const [row] = await db
    .select({ pool: storagePools, cluster: clusters })
    .from(storagePools)
    .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
    .where(eq(storagePools.id, poolId));
  if (!row) return undefined;
  const [host] = await db
    .select()
    .from(hosts)
    .where(and(eq(hosts.clusterId, row.cluster.id), eq(hosts.state, 'Up')))
    .orderBy(asc(hosts.name));
  return { ...row, host };
}
