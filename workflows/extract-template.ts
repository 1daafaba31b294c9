// extractTemplate: a time-limited URL for a Ready copy (S3 presigned, Swift temp URL, Ferry's signed link for NFS).
// Nothing is created, so there is nothing to undo; a store that cannot be reached fails the job with the reason.
import { movers } from './activity-proxies';
import { asWorkflowFailure } from './failure';

export interface ExtractTemplateInput {
  templateId: string;
  storeId: string;
  key: string;
  zoneId: string | null;
  seconds: number;
}

export interface ExtractTemplateResult {
  response: {
    template: { id: string; url: string; extractMode: 'HTTP_DOWNLOAD'; state: 'DOWNLOAD_URL_CREATED'; zoneid?: string };
  };
}

export async function extractTemplate(input: ExtractTemplateInput): Promise<ExtractTemplateResult> {
  try {
    const url = await movers(30).extractUrl({ storeId: input.storeId, key: input.key, seconds: input.seconds });
    return {
      response: {
        template: {
          id: input.templateId,
          url,
          extractMode: 'HTTP_DOWNLOAD',
          state: 'DOWNLOAD_URL_CREATED',
          zoneid: input.zoneId ?? undefined,
        },
      },
    };
  } catch (err) {
    throw asWorkflowFailure(err);
  }
}
