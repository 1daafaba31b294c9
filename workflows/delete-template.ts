// deleteTemplate: remove the chosen copies (store objects, prepared pool files), then the template once no copy is
// left. A copy whose removal fails goes back to Ready with the reason: it is still there, and says so.
import { catalogue, movers } from './activity-proxies';
import { asWorkflowFailure, failureReason } from './failure';

export interface DeleteTemplateInput {
  templateId: string;
  storeCopies: { refId: string; storeId: string; key: string }[];
  poolCopies: { refId: string; hostId: string; path: string }[];
  heartbeatSeconds: number;
}

export async function deleteTemplate(input: DeleteTemplateInput): Promise<{ templateId: string; removed: boolean }> {
  const acts = movers(input.heartbeatSeconds);
  const settled = await Promise.allSettled([
    ...input.poolCopies.map(async (copy) => {
      await catalogue.markPoolRef({ refId: copy.refId, state: 'Destroying' });
      try {
        await acts.removePoolFile({ hostId: copy.hostId, path: copy.path });
      } catch (err) {
        await catalogue.markPoolRef({ refId: copy.refId, state: 'Ready', errorText: failureReason(err) });
        throw err;
      }
      await catalogue.markPoolRef({ refId: copy.refId, state: 'Destroyed' });
    }),
    ...input.storeCopies.map(async (copy) => {
      await catalogue.markStoreRef({ refId: copy.refId, state: 'Destroying' });
      try {
        await acts.removeStoreObject({ storeId: copy.storeId, key: copy.key });
      } catch (err) {
        await catalogue.markStoreRef({ refId: copy.refId, state: 'Ready', errorText: failureReason(err) });
        throw err;
      }
      await catalogue.markStoreRef({ refId: copy.refId, state: 'Destroyed' });
    }),
  ]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw asWorkflowFailure(failed.reason);
  return {
    templateId: input.templateId,
    removed: await catalogue.removeTemplateIfEmpty({ templateId: input.templateId }),
  };
}
