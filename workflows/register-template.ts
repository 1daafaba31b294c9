// registerTemplate: for each store chosen for the template — plan the motion from the URL, mark the copy Creating,
// run the plan (streamed download with checks, resumable), mark it Ready; then record size and SHA-256.
// On failure: every write is undone and each copy ends Failed with the reason.
import { upsertMemo, workflowInfo } from '@temporalio/workflow';
import { asWorkflowFailure, failureReason } from './failure';
import { catalogue, movers } from './activity-proxies';
import { runPlan, type PlanOutcome } from './run-plan';
import { Saga } from './saga';

export interface RegisterTemplateInput {
  templateId: string;
  url: string;
  /** One store-ref row per destination store, created Allocated by the API. */
  storeRefIds: string[];
  heartbeatSeconds: number;
}

export async function registerTemplate(
  input: RegisterTemplateInput,
): Promise<{ templateId: string; transfers: PlanOutcome[] }> {
  const saga = new Saga();
  const acts = movers(input.heartbeatSeconds);
  try {
    const plans = await Promise.all(
      input.storeRefIds.map((refId) =>
        catalogue.planMotion({ templateId: input.templateId, from: { url: input.url }, to: { storeRefId: refId } }),
      ),
    );
    upsertMemo({ strategies: plans.map((p) => p.plan?.strategy), plans: plans.map((p) => p.plan) });
    const settled = await Promise.allSettled(
      input.storeRefIds.map(async (refId, i) => {
        await catalogue.markStoreRef({ refId, state: 'Creating', jobId: workflowInfo().workflowId });
        const outcome = await runPlan(plans[i]!.plan!, saga, acts, refId);
        await catalogue.markStoreRef({ refId, state: 'Ready', size: outcome.size });
        return outcome;
      }),
    );
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const transfers = settled.map((s) => (s as PromiseFulfilledResult<PlanOutcome>).value);
    await catalogue.recordTemplateContent({
      templateId: input.templateId,
      size: transfers[0]!.size!,
      sha256: transfers[0]!.sha256!,
    });
    return { templateId: input.templateId, transfers };
  } catch (err) {
    await saga.compensate();
    const reason = failureReason(err);
    for (const refId of input.storeRefIds) await catalogue.markStoreRef({ refId, state: 'Failed', errorText: reason });
    throw asWorkflowFailure(err);
  }
}
