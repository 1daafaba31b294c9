// migrateVolume: plan → copy (verified inside the conversion) → commit (the volume points at the new pool, in one
// transaction) → delete the source. Never lose the only copy: before the commit any failure or cancellation removes
// what was made and leaves the volume where it was, Ready; after it the old copy is only ever deleted (retried until
// done), never brought back.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function migrateVolume(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
