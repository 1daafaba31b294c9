// deleteSnapshot: remove the backups from their image stores and the snapshot from primary if it was kept there;
// then the snapshot is Destroyed. A store that cannot be reached fails the job and leaves the snapshot Error with
// the reason (its remaining copies still listed), so the operator can retry.
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';

export interface DeleteSnapshotInput {
  snapshotId: string;
  copies: { refId: string; storeId: string; key: string }[];
  primaryHandle?: string;
  heartbeatSeconds: number;
}

export async function deleteSnapshot(input: DeleteSnapshotInput): Promise<{ snapshotId: string }> {
  const acts = movers(input.heartbeatSeconds);
  const { snapshotId } = input;
  try {
    await catalogue.markSnapshot({ snapshotId, state: 'Destroying' });
    // The host first: if it cannot be reached, nothing has been removed yet.
    if (input.primaryHandle) {
      await acts.removeSnapshotOnPrimary({ snapshotId, handle: input.primaryHandle });
      await catalogue.markSnapshot({ snapshotId, state: 'Destroying', primaryHandle: null });
    }
    for (const copy of input.copies) {
      await catalogue.markObjectStoreRef({ kind: 'snapshot', refId: copy.refId, state: 'Destroying' });
      await acts.removeStoreObject({ storeId: copy.storeId, key: copy.key });
      await catalogue.markObjectStoreRef({ kind: 'snapshot', refId: copy.refId, state: 'Destroyed' });
    }
    await catalogue.markSnapshot({ snapshotId, state: 'Destroyed', primaryHandle: null });
    return { snapshotId };
  } catch (err) {
    await catalogue.markSnapshot({ snapshotId, state: 'Error', errorText: failureReason(err) });
    throw asWorkflowFailure(err);
  }
}
