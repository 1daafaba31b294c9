// extractTemplate: a time-limited URL for a Ready copy (S3 presigned, Swift temp URL, Ferry's signed link for NFS).
import type { PlanJobInput } from './plan-job';
import { runPlan } from './run-plan';

export interface ExtractTemplateInput extends PlanJobInput {
  templateId: string;
  zoneId: string | null;
}

export interface ExtractTemplateResult {
  response: {
    template: { id: string; url: string; extractMode: 'HTTP_DOWNLOAD'; state: 'DOWNLOAD_URL_CREATED'; zoneid?: string };
  };
}

export async function extractTemplate(input: ExtractTemplateInput): Promise<ExtractTemplateResult> {
  const { url } = await runPlan(input.plan, input);
  return {
    response: {
      template: {
        id: input.templateId,
        url: url!,
        extractMode: 'HTTP_DOWNLOAD',
        state: 'DOWNLOAD_URL_CREATED',
        zoneid: input.zoneId ?? undefined,
      },
    },
  };
}
