// A plan-running workflow's answer to the progress query: the share of its plan's steps done.
import { setHandler } from '@temporalio/workflow';
import { progressQuery } from '../core/progress';

export function jobProgress(): { onStep: (done: number, total: number) => void } {
  let percent = 0;
  setHandler(progressQuery, () => percent);
  return { onStep: (done, total) => (percent = Math.max(percent, Math.floor((done * 100) / Math.max(total, 1)))) };
}
