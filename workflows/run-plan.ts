// Runs a data-motion plan step by step; every step that creates something first registers how to undo it.
import { workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RefKind } from '../activities/store-ref-progress';
import type { MotionPlan } from '../plugins/motion/contract';
import type { Saga } from './saga';

export interface PlanOutcome {
  size?: number;
  sha256?: string;
  resumedParts?: number;
  partsSent?: number;
}

/** The copy's row transfers save their progress on: a template's by id, or another object's by kind and id. */
export type PlanRef = string | { refId: string; refKind: RefKind };

/** A cache lease outlives the steps it protects; past this a dead worker's lease expires and frees the space. */
const CACHE_LEASE_SECONDS = 6 * 3600;

export async function runPlan(
  plan: MotionPlan,
  saga: Saga,
  acts: Activities,
  ref?: PlanRef,
  onStep?: (done: number, total: number) => void,
): Promise<PlanOutcome> {
  const { refId, refKind } = typeof ref === 'string' || ref === undefined ? { refId: ref, refKind: undefined } : ref;
  const refOf = refKind ? { refId, refKind } : { refId };
  const leases = new Map<string, string>();
  let outcome: PlanOutcome = {};
  for (const [index, step] of plan.steps.entries()) {
    switch (step.step) {
      case 'download':
        saga.add(`remove ${step.key}`, () => acts.removeStoreObject({ storeId: step.storeId, key: step.key }));
        outcome = await acts.downloadToStore({ ...step, ...refOf });
        break;
      case 'copy-within-store':
        saga.add(`remove ${step.toKey}`, () => acts.removeStoreObject({ storeId: step.storeId, key: step.toKey }));
        outcome = await acts.copyWithinStore(step);
        break;
      case 'stream-between-stores': {
        const leased = leases.has(`${step.toStoreId}/${step.toKey}`);
        // What goes onto a leased cache store is removed by the lease's release, not here.
        if (!leased)
          saga.add(`remove ${step.toKey}`, () => acts.removeStoreObject({ storeId: step.toStoreId, key: step.toKey }));
        outcome = await acts.streamBetweenStores(leased ? step : { ...step, ...refOf });
        if (leased) await acts.markCacheObjectReady({ storeId: step.toStoreId, key: step.toKey, size: outcome.size });
        break;
      }
      case 'host-fetch-convert': {
        const path = `${step.poolPath}/${step.fileName}`;
        saga.add(`remove ${path}`, () => acts.removePoolFile({ hostId: step.hostId, path }));
        // A verified conversion also checks that the bytes it read are the ones the previous step sent.
        const sent = step.verify && outcome.sha256 ? { expectSha256: outcome.sha256 } : {};
        const converted = await acts.hostFetchConvert({ ...step, ...sent });
        outcome = { size: converted.virtualSize };
        break;
      }
      case 'remove-store-object':
        await acts.removeStoreObject({ storeId: step.storeId, key: step.key });
        break;
      case 'host-push':
        saga.add(`remove ${step.key}`, () => acts.removeStoreObject({ storeId: step.storeId, key: step.key }));
        outcome = await acts.hostPush({ ...step, ...refOf });
        break;
      case 'host-copy-to-path': {
        const leased = leases.has(`${step.into.storeId}/${step.into.key}`);
        if (!leased)
          saga.add(`remove ${step.toPath}`, () => acts.removePoolFile({ hostId: step.hostId, path: step.toPath }));
        outcome = await acts.hostCopyToPath(step);
        if (leased) await acts.markCacheObjectReady({ ...step.into, size: outcome.size });
        break;
      }
      case 'reserve-cache': {
        const { leaseId, objectState } = await acts.reserveCacheSpace({
          storeId: step.storeId,
          holder: workflowInfo().workflowId,
          key: step.key,
          bytes: step.bytes,
          objectType: step.objectType,
          objectId: step.objectId,
          ttlSeconds: CACHE_LEASE_SECONDS,
        });
        leases.set(`${step.storeId}/${step.key}`, leaseId);
        // Undo: end the lease and drop what this run staged; an object found Ready (reused) stays for others.
        const keepObject = objectState === 'Ready';
        saga.add(`release cache lease ${leaseId}`, () => acts.releaseCacheLease({ leaseId, keepObject }));
        break;
      }
      case 'release-cache': {
        const leaseId = leases.get(`${step.storeId}/${step.key}`);
        if (!leaseId) break;
        if (step.keepObject) await acts.markCacheObjectReady({ storeId: step.storeId, key: step.key });
        await acts.releaseCacheLease({ leaseId, keepObject: step.keepObject });
        leases.delete(`${step.storeId}/${step.key}`);
        break;
      }
    }
    onStep?.(index + 1, plan.steps.length);
  }
  return outcome;
}
