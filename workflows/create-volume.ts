// createVolume: a disk on a primary pool — blank, or made from an image-store object (a template's copy or a
// snapshot's backup) by its plan. On failure the disk (and anything staged) is removed and the volume ends Error.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function createVolume(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
