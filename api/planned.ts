// Plans are made at the API, once: what cannot be planned is refused before anything is written, with the failure
// type's error code and the planner's sentence; what can is the workflow's input, so the plan shown is the one run.
import { ErrorCode, failureErrorCode } from '../core/failures';
import type { Transition } from '../core/plan';
import type { Db } from '../db/client';
import { claim } from '../db/transitions';
import { PlanRefused } from '../planning/refusal';
import type { CommandContext } from './command';
import { ApiError } from './errors';
import { startJob, type JobStart } from './jobs';

export async function planned<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (err) {
    if (err instanceof PlanRefused) throw new ApiError(failureErrorCode[err.type], err.message);
    throw err;
  }
}

/** Claims the rows a job will work on (one job per row): another job holding one of them is a 536 with `busy`. */
async function claimed(db: Db, transitions: Transition[], busy: string): Promise<void> {
  if (!(await claim(db, transitions))) throw new ApiError(ErrorCode.ResourceInUse, busy);
}

/**
 * In one transaction: claims the rows the job will work on (a 536 with `busy` when another job holds one) and starts
 * the job, so a job is never started on rows it does not hold, and a refused claim leaves no job behind.
 */
export async function startClaimedJob(
  ctx: CommandContext,
  claims: Transition[],
  busy: string,
  job: JobStart,
): Promise<string> {
  return await ctx.db.transaction(async (tx) => {
    await claimed(tx, claims, busy);
    return await startJob({ ...ctx, db: tx }, job);
  });
}
