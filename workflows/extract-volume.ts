// extractVolume: a time-limited URL for a volume. An uploaded volume is already on an image store; a volume on
// primary is first copied there by the data-motion plan (its host uploads it, or through a cache store).
// On failure the partial copy is removed and its row ends Failed; the volume itself is never touched.
import { upsertMemo, workflowInfo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface ExtractVolumeInput {
  volumeId: string;
  refId: string;
  storeId: string;
  key: string;
  /** The disk on primary to copy first; absent when the store copy exists already. */
  fromPool?: { poolId: string; fileName: string };
  seconds: number;
  zoneId: string;
  heartbeatSeconds: number;
}

export interface ExtractVolumeResult {
  response: {
    volume: { id: string; url: string; extractMode: 'HTTP_DOWNLOAD'; state: 'DOWNLOAD_URL_CREATED'; zoneid: string };
  };
}

export async function extractVolume(input: ExtractVolumeInput): Promise<ExtractVolumeResult> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  const { volumeId, refId } = input;
  try {
    if (input.fromPool) {
      const choice = await catalogue.planMotion({
        object: { type: 'volume', id: volumeId },
        from: input.fromPool,
        to: { storeId: input.storeId, key: input.key },
      });
      upsertMemo({ strategy: choice.plan!.strategy, plan: choice.plan });
      await catalogue.markObjectStoreRef({
        kind: 'volume',
        refId,
        state: 'Creating',
        jobId: workflowInfo().workflowId,
      });
      const outcome = await runPlan(choice.plan!, saga, acts, { refId, refKind: 'volume' });
      await catalogue.markObjectStoreRef({
        kind: 'volume',
        refId,
        state: 'Ready',
        size: outcome.size,
        sha256: outcome.sha256,
      });
    }
    const url = await acts.extractUrl({ storeId: input.storeId, key: input.key, seconds: input.seconds });
    return {
      response: {
        volume: {
          id: volumeId,
          url,
          extractMode: 'HTTP_DOWNLOAD',
          state: 'DOWNLOAD_URL_CREATED',
          zoneid: input.zoneId,
        },
      },
    };
  } catch (err) {
    await saga.compensate();
    if (input.fromPool) {
      await catalogue.markObjectStoreRef({ kind: 'volume', refId, state: 'Failed', errorText: failureReason(err) });
    }
    throw asWorkflowFailure(err);
  }
}
