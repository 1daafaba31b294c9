// uploadVolume: fetch a disk image from a URL into an image store (streamed, checksum and format checked as for
// templates); the volume is then Uploaded. On failure nothing is left on the store and the volume is UploadError.
import { upsertMemo, workflowInfo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface UploadVolumeInput {
  volumeId: string;
  url: string;
  refId: string;
  storeId: string;
  key: string;
  heartbeatSeconds: number;
}

export async function uploadVolume(input: UploadVolumeInput): Promise<{ volumeId: string }> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  const { volumeId, refId } = input;
  try {
    const choice = await catalogue.planMotion({
      object: { type: 'volume', id: volumeId },
      from: { url: input.url },
      to: { storeId: input.storeId, key: input.key },
    });
    upsertMemo({ strategy: choice.plan!.strategy, plan: choice.plan });
    await catalogue.markObjectStoreRef({ kind: 'volume', refId, state: 'Creating', jobId: workflowInfo().workflowId });
    const outcome = await runPlan(choice.plan!, saga, acts, { refId, refKind: 'volume' });
    await catalogue.markObjectStoreRef({
      kind: 'volume',
      refId,
      state: 'Ready',
      size: outcome.size,
      sha256: outcome.sha256,
    });
    await catalogue.markVolume({ volumeId, state: 'Uploaded', size: outcome.size });
    return { volumeId };
  } catch (err) {
    await saga.compensate();
    const errorText = failureReason(err);
    await catalogue.markObjectStoreRef({ kind: 'volume', refId, state: 'Failed', errorText });
    await catalogue.markVolume({ volumeId, state: 'UploadError', errorText });
    throw asWorkflowFailure(err);
  }
}
