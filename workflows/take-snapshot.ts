// takeSnapshot: on primary through the volume's host, exported, backed up to an image store by its plan, committed
// (BackedUp); then the export and (unless kept) the snapshot on primary are removed. A failure after the commit
// never touches the backup; before it, everything made is removed and the snapshot ends Error.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function takeSnapshot(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
