// Runs a data-motion plan step by step; every step that creates something first registers how to undo it.
import type { Activities } from '../activities';
import type { MotionPlan } from '../plugins/motion/contract';
import type { Saga } from './saga';

export interface PlanOutcome {
  size?: number;
  sha256?: string;
  resumedParts?: number;
  partsSent?: number;
}

export async function runPlan(plan: MotionPlan, saga: Saga, acts: Activities, refId?: string): Promise<PlanOutcome> {
  let outcome: PlanOutcome = {};
  for (const step of plan.steps) {
    switch (step.step) {
      case 'download':
        saga.add(`remove ${step.key}`, () => acts.removeStoreObject({ storeId: step.storeId, key: step.key }));
        outcome = await acts.downloadToStore({ ...step, refId });
        break;
      case 'copy-within-store':
        saga.add(`remove ${step.toKey}`, () => acts.removeStoreObject({ storeId: step.storeId, key: step.toKey }));
        outcome = await acts.copyWithinStore(step);
        break;
      case 'stream-between-stores':
        saga.add(`remove ${step.toKey}`, () => acts.removeStoreObject({ storeId: step.toStoreId, key: step.toKey }));
        outcome = await acts.streamBetweenStores({ ...step, refId });
        break;
      case 'host-fetch-convert': {
        const path = `${step.poolPath}/${step.fileName}`;
        saga.add(`remove ${path}`, () => acts.removePoolFile({ hostId: step.hostId, path }));
        const converted = await acts.hostFetchConvert(step);
        outcome = { size: converted.virtualSize };
        break;
      }
      case 'remove-store-object':
        await acts.removeStoreObject({ storeId: step.storeId, key: step.key });
        break;
    }
  }
  return outcome;
}
