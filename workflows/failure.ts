// How a workflow ends on failure: one ApplicationFailure whose type the API maps to a CloudStack error code.
import { ApplicationFailure, TemporalFailure } from '@temporalio/workflow';

/** The innermost application failure of an error (an activity's cause, or the error itself). */
function rootApplicationFailure(err: unknown): ApplicationFailure | undefined {
  let current: unknown = err;
  while (current instanceof TemporalFailure) {
    if (current instanceof ApplicationFailure) return current;
    current = current.cause;
  }
  return undefined;
}

export function failureReason(err: unknown): string {
  const root = rootApplicationFailure(err);
  if (root) return root.message;
  return err instanceof Error ? err.message : String(err);
}

export function asWorkflowFailure(err: unknown): ApplicationFailure {
  const root = rootApplicationFailure(err);
  return ApplicationFailure.create({
    message: failureReason(err),
    type: root?.type ?? 'InternalError',
    nonRetryable: true,
    cause: err instanceof Error ? err : undefined,
  });
}
