import { defineQuery, setHandler } from '@temporalio/workflow';

/** Percent done of a job, shown by queryAsyncJobResult as `jobprocstatus`. */
export const progressQuery = defineQuery<number>('progress');

/** Answers the progress query from the plan's steps done. */
export function jobProgress(): { onStep: (done: number, total: number) => void } {
  let percent = 0;
  setHandler(progressQuery, () => percent);
  return { onStep: (done, total) => (percent = Math.max(percent, Math.floor((done * 100) / Math.max(total, 1)))) };
}
