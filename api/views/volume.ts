// How volumes and snapshots look in responses (CloudStack's VolumeResponse and SnapshotResponse).
import { and, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { clusters, snapshots, storagePools, volumes, volumeStoreRefs } from '../../db/schema';
import { csDate } from './format';
import { loadNames } from './inventory';

export async function volumeEntries(db: Db, where?: SQL) {
  const rows = await db
    .select({ volume: volumes, pool: storagePools, cluster: clusters })
    .from(volumes)
    .leftJoin(storagePools, eq(storagePools.id, volumes.poolId))
    .leftJoin(clusters, eq(clusters.id, storagePools.clusterId))
    .where(where ? and(isNull(volumes.removed), where) : isNull(volumes.removed))
    .orderBy(volumes.created);
  // An uploaded volume's bytes are its copy on the store.
  const uploaded = rows.filter((r) => r.volume.state === 'Uploaded').map((r) => r.volume.id);
  const stored = new Map(
    uploaded.length === 0
      ? []
      : (
          await db
            .select({ volumeId: volumeStoreRefs.volumeId, size: volumeStoreRefs.size })
            .from(volumeStoreRefs)
            .where(and(inArray(volumeStoreRefs.volumeId, uploaded), eq(volumeStoreRefs.state, 'Ready')))
        ).map((r) => [r.volumeId, r.size ?? undefined]),
  );
  const names = await loadNames(db);
  return rows.map(({ volume: v, pool, cluster }) => ({
    id: v.id,
    name: v.name,
    type: 'DATADISK',
    state: v.state,
    zoneid: v.zoneId,
    zonename: names.zone.get(v.zoneId),
    // CloudStack: size and virtualsize the guest-visible size, physicalsize the bytes it takes where it is.
    size: v.size ?? undefined,
    virtualsize: v.size ?? undefined,
    physicalsize: v.physicalSize ?? stored.get(v.id),
    format: v.format,
    storageid: pool?.id,
    storage: pool?.name,
    path: v.path ?? undefined,
    hypervisor: cluster?.hypervisor,
    templateid: v.templateId ?? undefined,
    snapshotid: v.snapshotId ?? undefined,
    url: v.url ?? undefined,
    created: csDate(v.created),
    ...(v.errorText ? { errortext: v.errorText } : {}),
  }));
}

export async function snapshotEntries(db: Db, where?: SQL) {
  const rows = await db
    .select({ snapshot: snapshots, volume: volumes })
    .from(snapshots)
    .innerJoin(volumes, eq(volumes.id, snapshots.volumeId))
    .where(where ? and(isNull(snapshots.removed), where) : isNull(snapshots.removed))
    .orderBy(snapshots.created);
  const names = await loadNames(db);
  return rows.map(({ snapshot: s, volume: v }) => ({
    id: s.id,
    name: s.name,
    volumeid: v.id,
    volumename: v.name,
    volumetype: 'DATADISK',
    snapshottype: 'MANUAL',
    intervaltype: 'MANUAL',
    state: s.state,
    zoneid: s.zoneId,
    zonename: names.zone.get(s.zoneId),
    format: s.format,
    virtualsize: s.size ?? undefined,
    physicalsize: s.physicalSize ?? undefined,
    locationtype: s.primaryHandle ? 'PRIMARY' : 'SECONDARY',
    created: csDate(s.created),
    ...(s.errorText ? { errortext: s.errorText } : {}),
  }));
}

export const volumeView = async (db: Db, id: string) => (await volumeEntries(db, eq(volumes.id, id)))[0];
export const snapshotView = async (db: Db, id: string) => (await snapshotEntries(db, eq(snapshots.id, id)))[0];
