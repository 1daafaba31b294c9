// migrateVolume: plan → copy (each step with its undo) → verify (inside the copy: the destination's guest-visible
// content is compared with the source before the file takes its name) → commit (the volume points at the new pool,
// in one transaction) → delete the source. Never lose the only copy: before the commit any failure or cancellation
// removes what was made and leaves the volume exactly where it was, Ready; after it, the old copy is only ever
// deleted (retried until done), never brought back.
import { CancellationScope, log, setHandler, upsertMemo } from '@temporalio/workflow';
import { catalogue, cleanup, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { progressQuery } from '../core/progress';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface MigrateVolumeInput {
  volumeId: string;
  from: { poolId: string; fileName: string };
  to: { poolId: string; fileName: string };
  live: boolean;
  heartbeatSeconds: number;
}

export async function migrateVolume(
  input: MigrateVolumeInput,
): Promise<{ volumeId: string; poolId: string; strategy: string; sourceLeft?: string }> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  const { volumeId } = input;
  let percent = 0;
  setHandler(progressQuery, () => percent);

  let strategy: string;
  try {
    const choice = await catalogue.planMotion({
      object: { type: 'volume', id: volumeId },
      from: input.from,
      to: input.to,
      live: input.live,
    });
    strategy = choice.plan!.strategy;
    upsertMemo({ strategy, plan: choice.plan });
    percent = 5;
    await runPlan(
      choice.plan!,
      saga,
      acts,
      undefined,
      (done, total) => (percent = 5 + Math.floor((done * 85) / total)),
    );
    await catalogue.commitVolumeMove({ volumeId, poolId: input.to.poolId, fileName: input.to.fileName });
    percent = 95;
  } catch (err) {
    // Also on cancellation: undo in a scope the cancellation cannot interrupt, then say where the volume is.
    await CancellationScope.nonCancellable(async () => {
      await saga.compensate();
      await catalogue.endVolumeMigration({ volumeId });
    });
    throw asWorkflowFailure(err);
  }

  // Committed: the new copy is the volume. The old one goes, however long its host takes to answer; if it cannot
  // (its pool is gone), the move still stands and the leftover is reported, never brought back.
  let sourceLeft: string | undefined;
  try {
    await CancellationScope.nonCancellable(() => cleanup(input.heartbeatSeconds).removePoolFileOf(input.from));
  } catch (err) {
    sourceLeft = failureReason(err);
    log.warn('the old copy of a migrated volume could not be removed', { volumeId, reason: sourceLeft });
  }
  percent = 100;
  return { volumeId, poolId: input.to.poolId, strategy, ...(sourceLeft ? { sourceLeft } : {}) };
}
