// uploadVolume: fetch a disk image from a URL into an image store (streamed, checksum and format checked as for
// templates); the volume is then Uploaded. On failure nothing is left on the store and the volume is UploadError.
import type { PlanOutcome } from '../core/plan';
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export async function uploadVolume(input: PlanJobInput): Promise<PlanOutcome> {
  const progress = jobProgress();
  return await runPlan(input.plan, { ...input, onStep: progress.onStep });
}
