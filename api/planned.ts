// Plans are made at the API, once: what cannot be planned is refused before anything is written, with the failure
// type's error code and the planner's sentence; what can is the workflow's input, so the plan shown is the one run.
import { ErrorCode, failureErrorCode } from '../core/failures';
import type { Transition } from '../core/plan';
import type { Db } from '../db/client';
import { claim } from '../db/transitions';
import { PlanRefused } from '../planning/refusal';
import { ApiError } from './errors';

export async function planned<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if (err instanceof PlanRefused) throw new ApiError(failureErrorCode[err.type], err.message);
    throw err;
  }
}

/** Claims the rows a job will work on (one job per row): another job holding one of them is a 536 with `busy`. */
export async function claimed(db: Db, transitions: Transition[], busy: string): Promise<void> {
  if (!(await claim(db, transitions))) throw new ApiError(ErrorCode.ResourceInUse, busy);
}
