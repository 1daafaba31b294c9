// prepareTemplate: put the template on primary pools in each pool's hypervisor format. For each pool: plan (direct
// pull by the host, or through the zone's cache store), run, record; a failed pool leaves no file and a Failed row.
import { upsertMemo, workflowInfo } from '@temporalio/workflow';
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';
import { runPlan } from './run-plan';
import { Saga } from './saga';

export interface PrepareTemplateInput {
  templateId: string;
  /** The Ready copy each pool is prepared from, by pool ref. */
  targets: { poolRefId: string; sourceRefId: string }[];
  heartbeatSeconds: number;
}

export async function prepareTemplate(input: PrepareTemplateInput): Promise<{ templateId: string; prepared: number }> {
  const acts = movers(input.heartbeatSeconds);
  const strategies: string[] = [];
  const settled = await Promise.allSettled(
    input.targets.map(async ({ poolRefId, sourceRefId }) => {
      const saga = new Saga();
      try {
        const choice = await catalogue.planMotion({
          templateId: input.templateId,
          from: { storeRefId: sourceRefId },
          to: { poolRefId },
        });
        strategies.push(choice.plan!.strategy);
        upsertMemo({ strategies, jobId: workflowInfo().workflowId });
        await catalogue.markPoolRef({ refId: poolRefId, state: 'Creating' });
        const outcome = await runPlan(choice.plan!, saga, acts);
        await catalogue.markPoolRef({ refId: poolRefId, state: 'Ready', size: outcome.size });
      } catch (err) {
        await saga.compensate();
        await catalogue.markPoolRef({ refId: poolRefId, state: 'Failed', errorText: failureReason(err) });
        throw err;
      }
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw asWorkflowFailure(failed.reason);
  return { templateId: input.templateId, prepared: settled.length };
}
