// Catalogue transitions of volumes, snapshots and their copies on image stores. Each is one conditional update:
// safe to run twice.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import {
  snapshots,
  snapshotStoreRefs,
  volumes,
  volumeStoreRefs,
  type SnapshotState,
  type StoreRefState,
  type VolumeState,
} from '../db/schema';
import { readSetting } from '../db/settings';

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

    async snapshotPolicy(): Promise<{ keepOnPrimary: boolean }> {
      return { keepOnPrimary: (await readSetting(db, 'snapshot.keep.on.primary')) === 'true' };
    },
  };
}
