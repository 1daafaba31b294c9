// The workflow test helper itself: a workflow calling an activity the test did not mock fails the test by name,
// even when the workflow catches that activity's failure and the test body never sees it.
import { describe, expect, it } from 'vitest';
import type { HostProbe } from '../../activities/hosts';
import { addHost } from '../../workflows/add-host';
import { useWorkflowEnv } from '../support/workflow-env';

const env = useWorkflowEnv();

const probeHost = (): Promise<HostProbe> => Promise.resolve({ hypervisorVersion: 'x', qemuImgVersion: 'y', pools: [] });
const markHostError = () => Promise.resolve();

describe('useWorkflowEnv', () => {
  it('fails the test naming an activity that had no mock, with the body’s own error as the cause', async () => {
    const run = env.run({ probeHost, markHostError }, async ({ client, taskQueue }) => {
      await client.workflow.execute(addHost, {
        taskQueue,
        workflowId: 'unmocked',
        args: [{ hostId: 'h', connectAttempts: 1 }],
      });
    });
    await expect(run).rejects.toThrow('the workflow called activities this test did not mock: markHostUp');
    await expect(run).rejects.toHaveProperty('cause.name', 'WorkflowFailedError');
  });

  it('fails the test even when the body swallowed the workflow failure', async () => {
    const run = env.run({ probeHost, markHostError }, async ({ client, taskQueue }) => {
      await client.workflow
        .execute(addHost, { taskQueue, workflowId: 'unmocked-quiet', args: [{ hostId: 'h', connectAttempts: 1 }] })
        .catch(() => undefined);
    });
    await expect(run).rejects.toThrow('the workflow called activities this test did not mock: markHostUp');
  });
});
