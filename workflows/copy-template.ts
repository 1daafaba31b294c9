// copyTemplate of a zone template: from a Ready copy to a store of each destination zone, in parallel; each zone
// succeeds or fails on its own (its copy ends Ready, or Failed with nothing left behind).
import { workflowInfo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface CopyTemplateInput {
  templateId: string;
  sourceRefId: string;
  destinationRefIds: string[];
  heartbeatSeconds: number;
}

export async function copyTemplate(input: CopyTemplateInput): Promise<{ templateId: string; copied: number }> {
  const acts = movers(input.heartbeatSeconds);
  const settled = await Promise.allSettled(
    input.destinationRefIds.map(async (refId) => {
      const saga = new Saga();
      try {
        const choice = await catalogue.planMotion({
          templateId: input.templateId,
          from: { storeRefId: input.sourceRefId },
          to: { storeRefId: refId },
        });
        await catalogue.markStoreRef({ refId, state: 'Copying', jobId: workflowInfo().workflowId });
        const outcome = await runPlan(choice.plan!, saga, acts, refId);
        await catalogue.markStoreRef({ refId, state: 'Ready', size: outcome.size });
      } catch (err) {
        await saga.compensate();
        await catalogue.markStoreRef({ refId, state: 'Failed', errorText: failureReason(err) });
        throw err;
      }
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw asWorkflowFailure(failed.reason);
  return { templateId: input.templateId, copied: settled.length };
}
