import { defineQuery } from '@temporalio/workflow';

/** Percent done of a job, shown by queryAsyncJobResult as `jobprocstatus`. */
export const progressQuery = defineQuery<number>('progress');
