// The progress query: workflows answer it, the API asks it for queryAsyncJobResult; one definition for both.
import { defineQuery } from '@temporalio/workflow';

/** Percent done of a job, shown by queryAsyncJobResult as `jobprocstatus`. */
export const progressQuery = defineQuery<number>('progress');
