// extractVolume: a time-limited URL for a volume. An uploaded volume is already on an image store; a volume on
// primary is first copied there by its plan. On failure the partial copy is removed and its row ends Failed; the
// volume itself is never touched.
import type { PlanJobInput } from './plan-job';
import { jobProgress } from './progress';
import { runPlan } from './run-plan';

export interface ExtractVolumeInput extends PlanJobInput {
  volumeId: string;
  zoneId: string;
}

export interface ExtractVolumeResult {
  response: {
    volume: { id: string; url: string; extractMode: 'HTTP_DOWNLOAD'; state: 'DOWNLOAD_URL_CREATED'; zoneid: string };
  };
}

export async function extractVolume(input: ExtractVolumeInput): Promise<ExtractVolumeResult> {
  const progress = jobProgress();
  const { url } = await runPlan(input.plan, { ...input, onStep: progress.onStep });
  return {
    response: {
      volume: {
        id: input.volumeId,
        url: url!,
        extractMode: 'HTTP_DOWNLOAD',
        state: 'DOWNLOAD_URL_CREATED',
        zoneid: input.zoneId,
      },
    },
  };
}
