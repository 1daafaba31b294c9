// registerTemplate: for each store chosen for the template, its plan (URL → store, streamed and checked, resumable)
// runs to its commit (the copy Ready, the template's size and SHA-256 recorded); each copy fails on its own, its row
// Failed with the reason and nothing left on the store.
import type { PlanOutcome } from '../core/plan';
import type { PlansJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlans } from './run-plan';

export async function registerTemplate(input: PlansJobInput): Promise<{ transfers: PlanOutcome[] }> {
  const progress = jobProgress();
  return { transfers: await runPlans(input.plans, { ...input, onStep: progress.onStep }) };
}
