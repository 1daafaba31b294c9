// deleteVolume: the disk leaves its pool and the volume's copies leave their image stores; then it is Expunged.
// A host or store that cannot be reached fails the job and leaves the volume Error with the reason, to retry.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function deleteVolume(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
