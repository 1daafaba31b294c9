// deleteTemplate: remove the chosen copies (store objects, prepared pool files), each by its own plan; a copy whose
// removal fails goes back to Ready with the reason. Then the template goes once no copy is left.
import { CancellationScope } from '@temporalio/workflow';
import { catalogue } from './activity-proxies';
import type { PlansJobInput } from './plan-job';
import { runPlans } from './run-plan';

export interface DeleteTemplateInput extends PlansJobInput {
  templateId: string;
}

export async function deleteTemplate(input: DeleteTemplateInput): Promise<{ removed: boolean }> {
  await runPlans(input.plans, input);
  // The copies are committed Destroyed: the template's own end follows them, whatever a cancellation says.
  const removed = await CancellationScope.nonCancellable(() =>
    catalogue.removeTemplateIfEmpty({ templateId: input.templateId }),
  );
  return { removed };
}
