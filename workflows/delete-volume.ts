// deleteVolume: the disk leaves its pool and the volume's copies leave their image stores; then it is Expunged.
// A host or store that cannot be reached fails the job and leaves the volume Error with the reason, to retry.
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';

export interface DeleteVolumeInput {
  volumeId: string;
  onPool: boolean;
  copies: { refId: string; storeId: string; key: string }[];
  heartbeatSeconds: number;
}

export async function deleteVolume(input: DeleteVolumeInput): Promise<{ volumeId: string }> {
  const acts = movers(input.heartbeatSeconds);
  const { volumeId } = input;
  try {
    await catalogue.markVolume({ volumeId, state: 'Destroy' });
    if (input.onPool) await acts.removeVolumeDisk({ volumeId });
    for (const copy of input.copies) {
      await acts.removeStoreObject({ storeId: copy.storeId, key: copy.key });
      await catalogue.markObjectStoreRef({ kind: 'volume', refId: copy.refId, state: 'Destroyed' });
    }
    await catalogue.markVolume({ volumeId, state: 'Expunged' });
    return { volumeId };
  } catch (err) {
    await catalogue.markVolume({ volumeId, state: 'Error', errorText: failureReason(err) });
    throw asWorkflowFailure(err);
  }
}
