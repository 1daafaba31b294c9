// deleteSnapshot: remove the snapshot from primary if kept there, then its backups; then it is Destroyed. A host or
// store that cannot be reached fails the job and leaves the snapshot Error with the reason, so the operator can retry.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function deleteSnapshot(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
