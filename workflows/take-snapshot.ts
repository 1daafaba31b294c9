// takeSnapshot: snapshot the volume on primary through its host (CreatedOnPrimary), then back it up to an image
// store by the plan the data-motion core picks (BackingUp → BackedUp): the host uploads it itself, or it goes
// through a cache store. Each phase has its own limits and heartbeats; there is no single global timeout.
// On failure: the partial backup, the exported file and the snapshot on primary are removed; the snapshot ends Error.
import { upsertMemo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan, type PlanOutcome } from './run-plan';
import { Saga } from './saga';

export interface TakeSnapshotInput {
  snapshotId: string;
  /** The snapshot's copy-to-be on an image store (its row is Allocated), and where it goes there. */
  refId: string;
  storeId: string;
  key: string;
  heartbeatSeconds: number;
}

export async function takeSnapshot(input: TakeSnapshotInput): Promise<{ snapshotId: string; transfer: PlanOutcome }> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  const { snapshotId, refId } = input;
  try {
    // The policy in force when the snapshot was asked for decides whether it stays on primary.
    const { keepOnPrimary } = await catalogue.snapshotPolicy();
    await catalogue.markSnapshot({ snapshotId, state: 'Creating' });
    const { handle, size } = await acts.snapshotOnPrimary({ snapshotId });
    saga.add('remove the snapshot on primary', () => acts.removeSnapshotOnPrimary({ snapshotId, handle }));
    await catalogue.markSnapshot({ snapshotId, state: 'CreatedOnPrimary', primaryHandle: handle, size });

    const file = await acts.exportSnapshotFile({ snapshotId, handle });
    const removeExport = () => acts.removeSnapshotExport({ snapshotId, fileName: file.fileName });
    if (file.temporary) saga.add('remove the exported snapshot file', removeExport);
    await catalogue.markSnapshot({ snapshotId, state: 'BackingUp', physicalSize: file.physicalSize });

    const choice = await catalogue.planMotion({
      object: { type: 'snapshot', id: snapshotId },
      from: { poolId: file.poolId, fileName: file.fileName },
      to: { storeId: input.storeId, key: input.key },
    });
    upsertMemo({ strategy: choice.plan!.strategy, plan: choice.plan });
    await catalogue.markObjectStoreRef({ kind: 'snapshot', refId, state: 'Creating' });
    const outcome = await runPlan(choice.plan!, saga, acts, { refId, refKind: 'snapshot' });
    await catalogue.markObjectStoreRef({
      kind: 'snapshot',
      refId,
      state: 'Ready',
      size: outcome.size,
      sha256: outcome.sha256,
    });

    if (file.temporary) await removeExport();
    if (!keepOnPrimary) await acts.removeSnapshotOnPrimary({ snapshotId, handle });
    await catalogue.markSnapshot({
      snapshotId,
      state: 'BackedUp',
      physicalSize: outcome.size,
      primaryHandle: keepOnPrimary ? handle : null,
    });
    return { snapshotId, transfer: outcome };
  } catch (err) {
    await saga.compensate();
    const errorText = failureReason(err);
    await catalogue.markObjectStoreRef({ kind: 'snapshot', refId, state: 'Failed', errorText });
    await catalogue.markSnapshot({ snapshotId, state: 'Error', errorText, primaryHandle: null });
    throw asWorkflowFailure(err);
  }
}
