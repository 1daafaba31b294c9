// createVolume: a disk on a primary pool — blank, or made from an image-store object (a template's copy or a
// snapshot's backup) by the data-motion plan (the pool's host pulls it, or it comes through a cache store).
// On failure the disk (and anything staged) is removed and the volume ends Error with the reason.
import { upsertMemo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface CreateVolumeInput {
  volumeId: string;
  poolId: string;
  fileName: string;
  /** Where the content comes from; none for a blank disk. */
  source?: { type: 'template' | 'snapshot'; id: string; storeId: string; key: string };
  heartbeatSeconds: number;
}

export async function createVolume(input: CreateVolumeInput): Promise<{ volumeId: string; size?: number }> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  const { volumeId, source } = input;
  try {
    await catalogue.markVolume({ volumeId, state: 'Creating' });
    let size: number | undefined;
    if (!source) {
      saga.add('remove the blank disk', () => acts.removeVolumeDisk({ volumeId }));
      size = (await acts.createBlankDisk({ volumeId })).size;
    } else {
      const choice = await catalogue.planMotion({
        ...(source.type === 'template' ? { templateId: source.id } : { object: { type: 'snapshot', id: source.id } }),
        from: { storeId: source.storeId, key: source.key },
        to: { poolId: input.poolId, fileName: input.fileName },
      });
      upsertMemo({ strategy: choice.plan!.strategy, plan: choice.plan });
      size = (await runPlan(choice.plan!, saga, acts)).size;
    }
    await catalogue.markVolume({ volumeId, state: 'Ready', size });
    return { volumeId, size };
  } catch (err) {
    await saga.compensate();
    await catalogue.markVolume({ volumeId, state: 'Error', errorText: failureReason(err) });
    throw asWorkflowFailure(err);
  }
}
