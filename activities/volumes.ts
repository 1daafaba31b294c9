// Catalogue transitions of volumes, snapshots and their copies on image stores. Each is one conditional update:
// safe to run twice.
import { ApplicationFailure } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import { FailureType } from '../core/failures';
import type { Db } from '../db/client';
import {
  clusters,
  snapshots,
  storagePools,
  snapshotStoreRefs,
  volumes,
  volumeStoreRefs,
  type SnapshotState,
  type StoreRefState,
  type VolumeState,
} from '../db/schema';
import { readSetting } from '../db/settings';
import { hypervisorAdapter } from '../plugins/hypervisors/registry';

export interface StoreRefUpdate {
  kind: 'snapshot' | 'volume';
  refId: string;
  state: StoreRefState;
  errorText?: string;
  size?: number;
  sha256?: string;
  jobId?: string;
}

export function createVolumeActivities({ db }: { db: Db }) {
  return {
    async markVolume(input: { volumeId: string; state: VolumeState; errorText?: string; size?: number }) {
      await db
        .update(volumes)
        .set({
          state: input.state,
          errorText: input.errorText ?? null,
          ...(input.size !== undefined ? { size: input.size } : {}),
          ...(input.state === 'Expunged' ? { removed: new Date() } : {}),
        })
        .where(eq(volumes.id, input.volumeId));
    },

    async markSnapshot(input: {
      snapshotId: string;
      state: SnapshotState;
      errorText?: string;
      size?: number;
      physicalSize?: number;
      /** The snapshot on primary: set when taken, null once removed. */
      primaryHandle?: string | null;
    }) {
      await db
        .update(snapshots)
        .set({
          state: input.state,
          errorText: input.errorText ?? null,
          ...(input.size !== undefined ? { size: input.size } : {}),
          ...(input.physicalSize !== undefined ? { physicalSize: input.physicalSize } : {}),
          ...(input.primaryHandle !== undefined ? { primaryHandle: input.primaryHandle } : {}),
          ...(input.state === 'Destroyed' ? { removed: new Date() } : {}),
        })
        .where(eq(snapshots.id, input.snapshotId));
    },

    async markObjectStoreRef(input: StoreRefUpdate) {
      const table = input.kind === 'snapshot' ? snapshotStoreRefs : volumeStoreRefs;
      const finished = input.state === 'Ready' || input.state === 'Failed' || input.state === 'Destroyed';
      await db
        .update(table)
        .set({
          state: input.state,
          errorText: input.errorText ?? null,
          ...(input.size !== undefined ? { size: input.size } : {}),
          ...(input.sha256 !== undefined ? { sha256: input.sha256 } : {}),
          ...(input.jobId ? { jobId: input.jobId } : {}),
          ...(input.state === 'Ready' ? { downloadPercent: 100 } : {}),
          ...(finished ? { transferState: null } : {}),
          updated: new Date(),
        })
        .where(eq(table.id, input.refId));
    },

    /**
     * The migration's commit: in one statement the volume points at its new pool (file, format) and is Ready again.
     * A retry after it succeeded finds the volume already there and does nothing.
     */
    async commitVolumeMove({ volumeId, poolId, fileName }: { volumeId: string; poolId: string; fileName: string }) {
      const [row] = await db
        .select({ hypervisor: clusters.hypervisor, zoneId: storagePools.zoneId })
        .from(storagePools)
        .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
        .where(eq(storagePools.id, poolId));
      if (!row) throw ApplicationFailure.nonRetryable(`pool ${poolId} no longer exists`, FailureType.NotFound);
      const moved = await db
        .update(volumes)
        .set({
          poolId,
          path: fileName,
          zoneId: row.zoneId,
          format: hypervisorAdapter(row.hypervisor).poolFormat,
          state: 'Ready',
          migratingTo: null,
        })
        .where(and(eq(volumes.id, volumeId), eq(volumes.state, 'Migrating')))
        .returning({ id: volumes.id });
      if (moved.length > 0) return;
      const [now] = await db.select().from(volumes).where(eq(volumes.id, volumeId));
      if (now?.poolId !== poolId || now.path !== fileName) {
        throw ApplicationFailure.nonRetryable(
          `volume ${volumeId} is no longer migrating (${now?.state})`,
          FailureType.NotFound,
        );
      }
    },

    /** A migration that did not commit: the volume is where it was, Ready. */
    async endVolumeMigration({ volumeId }: { volumeId: string }) {
      await db
        .update(volumes)
        .set({ state: 'Ready', migratingTo: null })
        .where(and(eq(volumes.id, volumeId), eq(volumes.state, 'Migrating')));
    },

    async snapshotPolicy(): Promise<{ keepOnPrimary: boolean }> {
      return { keepOnPrimary: (await readSetting(db, 'snapshot.keep.on.primary')) === 'true' };
    },
  };
}
