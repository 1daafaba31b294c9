// The state machine's writes as an activity: plans name their transitions as data, this applies them (one
// transaction per call) and turns a row that is elsewhere into a final, typed failure.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../core/failures';
import type { PlanFacts, Transition } from '../core/plan';
import { IllegalTransition } from '../core/state-machine';
import type { Db } from '../db/client';
import { applyTransitions, RowElsewhere, RowMissing } from '../db/transitions';

export function createCatalogueActivities({ db }: { db: Db }) {
  return {
    async applyTransitions(input: { transitions: Transition[]; facts?: PlanFacts; errorText?: string }): Promise<void> {
      try {
        // Every row a job moves names the job (queryAsyncJobResult reads transfer progress by it).
        const jobId = Context.current().info.workflowExecution?.workflowId;
        await applyTransitions(db, input.transitions, input.facts, input.errorText, jobId);
      } catch (err) {
        if (err instanceof RowMissing) throw ApplicationFailure.retryable(err.message, FailureType.RowMissing);
        if (err instanceof RowElsewhere || err instanceof IllegalTransition) {
          throw ApplicationFailure.nonRetryable(err.message, FailureType.IllegalTransition);
        }
        throw err;
      }
    },
  };
}
