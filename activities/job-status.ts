// How a job stands, from Temporal itself (the jobid is the workflow id): the doctor trusts no row's word for it.
import { WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import type { JobStatusReader } from './reconcile';

export function temporalJobStatus(workflows: WorkflowClient): JobStatusReader {
  return async (workflowId) => {
    try {
      const { status } = await workflows.getHandle(workflowId).describe();
      return status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW' ? 'running' : 'ended';
    } catch (err) {
      // Gone from Temporal (past retention, or never started): nothing runs it.
      if (err instanceof WorkflowNotFoundError) return 'ended';
      throw err;
    }
  };
}
