// copyTemplate of a zone template: from a Ready copy to a store of each destination zone, side by side; each zone
// succeeds or fails on its own (its copy ends Ready, or Failed with nothing left behind).
import type { PlanOutcome } from '../core/plan';
import type { PlansJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlans } from './run-plan';

export async function copyTemplate(input: PlansJobInput): Promise<{ copies: PlanOutcome[] }> {
  const progress = jobProgress();
  return { copies: await runPlans(input.plans, { ...input, onStep: progress.onStep }) };
}
