// addHost on the time-skipping test server with mocked activities: the host is marked Up only after a good probe,
// and every way out that is not success (a failed probe, retries used up, a cancel) records the reason first.
import { Context } from '@temporalio/activity';
import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import { describe, expect, it, vi } from 'vitest';
import type { HostProbe } from '../../activities/hosts';
import { FailureType } from '../../core/failures';
import { addHost } from '../../workflows/add-host';
import { progressQuery } from '../../core/progress';
import { failureOf, useWorkflowEnv } from '../support/workflow-env';

const env = useWorkflowEnv();

const probe: HostProbe = {
  hypervisorVersion: '6.1.0-kvm',
  qemuImgVersion: 'qemu-img version 7.2.0',
  pools: [{ poolId: 'pool-1', capacityBytes: 10_000, availableBytes: 4_000 }],
};

describe('addHost workflow', () => {
  it('probes the host, then records the probe and marks it Up', async () => {
    const probeHost = vi.fn((_: { hostId: string }) => Promise.resolve(probe));
    const markHostUp = vi.fn((_: { hostId: string; probe: HostProbe }) => Promise.resolve());
    const markHostError = vi.fn((_: { hostId: string; reason: string }) => Promise.resolve());
    await env.run({ probeHost, markHostUp, markHostError }, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(addHost, {
        taskQueue,
        workflowId: 'add-host-ok',
        args: [{ hostId: 'h1', connectAttempts: 3 }],
      });
      expect(await handle.result()).toEqual({ hostId: 'h1' });
      expect(await handle.query(progressQuery)).toBe(100);
    });
    expect(probeHost.mock.calls).toEqual([[{ hostId: 'h1' }]]);
    expect(markHostUp.mock.calls).toEqual([[{ hostId: 'h1', probe }]]);
    expect(markHostError).not.toHaveBeenCalled();
  });

  it('marks the host Error with the reason when the probe fails for good, and fails the job with its type', async () => {
    const reason =
      'host h1 has no qemu-img on its PATH; KVM hosts need it (install qemu-utils), then add the host again';
    const probeHost = vi.fn((_: { hostId: string }): Promise<HostProbe> =>
      Promise.reject(ApplicationFailure.nonRetryable(reason, FailureType.HostToolMissing)),
    );
    const markHostError = vi.fn((_: { hostId: string; reason: string }) => Promise.resolve());
    // markHostUp is not mocked: the helper fails the test if the workflow calls it.
    await env.run({ probeHost, markHostError }, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(addHost, {
        taskQueue,
        workflowId: 'add-host-no-tool',
        args: [{ hostId: 'h1', connectAttempts: 5 }],
      });
      const cause = await failureOf(handle.result());
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ message: reason, type: FailureType.HostToolMissing, nonRetryable: true });
    });
    expect(probeHost).toHaveBeenCalledTimes(1); // non-retryable: not tried again
    expect(markHostError.mock.calls).toEqual([[{ hostId: 'h1', reason }]]);
  });

  it('retries an unreachable host connectAttempts times (back-off skipped), then marks it Error', async () => {
    const reason = 'cannot reach host h1 at 127.0.0.1:2201: connect ECONNREFUSED';
    const probeHost = vi.fn((_: { hostId: string }): Promise<HostProbe> =>
      Promise.reject(ApplicationFailure.retryable(reason, FailureType.HostUnreachable)),
    );
    const markHostError = vi.fn((_: { hostId: string; reason: string }) => Promise.resolve());
    await env.run({ probeHost, markHostError }, async ({ client, taskQueue, testEnv }) => {
      const before = await testEnv.currentTimeMs();
      const handle = await client.workflow.start(addHost, {
        taskQueue,
        workflowId: 'add-host-unreachable',
        args: [{ hostId: 'h1', connectAttempts: 6 }],
      });
      expect(await failureOf(handle.result())).toMatchObject({ message: reason, type: FailureType.HostUnreachable });
      // Back-offs of 1, 2, 4, 8 and 16 s passed on the server's clock, not the test's.
      expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(31_000);
    });
    expect(probeHost).toHaveBeenCalledTimes(6);
    expect(markHostError.mock.calls).toEqual([[{ hostId: 'h1', reason }]]);
  });

  it('still marks the host Error when the job is cancelled while the probe is running, and fails the job', async () => {
    let probing!: () => void;
    const probeStarted = new Promise<void>((resolve) => (probing = resolve));
    // A probe that never answers: it ends only when the worker tells it to stop.
    const probeHost = vi.fn((_: { hostId: string }): Promise<HostProbe> => {
      probing();
      return Context.current().cancelled;
    });
    const markHostError = vi.fn((_: { hostId: string; reason: string }) => Promise.resolve());
    await env.run({ probeHost, markHostError }, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(addHost, {
        taskQueue,
        workflowId: 'add-host-cancelled',
        args: [{ hostId: 'h1', connectAttempts: 3 }],
      });
      await probeStarted;
      await handle.cancel();
      // The compensation turns the cancel into a failure (asWorkflowFailure), so the job reports why it stopped.
      const cause = await failureOf(handle.result());
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ message: 'Activity cancelled', type: 'InternalError', nonRetryable: true });
      const activity = (cause as ApplicationFailure).cause;
      expect(activity).toBeInstanceOf(ActivityFailure);
      expect(activity).toMatchObject({ activityType: 'probeHost', retryState: RetryState.CANCEL_REQUESTED });
      expect(activity?.cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('FAILED');
    });
    expect(probeHost).toHaveBeenCalledTimes(1);
    expect(markHostError.mock.calls).toEqual([[{ hostId: 'h1', reason: 'Activity cancelled' }]]);
  });
});
