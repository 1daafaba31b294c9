// prepareTemplate: put the template on primary pools in each pool's hypervisor format, one plan per pool (the host
// pulls it, or it comes through a cache store); a failed pool leaves no file and a Failed row.
import type { PlanOutcome } from '../core/plan';
import type { PlansJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlans } from './run-plan';

export async function prepareTemplate(input: PlansJobInput): Promise<{ prepared: PlanOutcome[] }> {
  const progress = jobProgress();
  return { prepared: await runPlans(input.plans, { ...input, onStep: progress.onStep }) };
}
