// addHost: connect to a hypervisor host over SSH with its pinned key, probe it, and mark it Up.
// On any failure the compensation records the reason and leaves the host in Error, never Up.
import { CancellationScope, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { asWorkflowFailure, failureReason } from './failure';
import { progressQuery } from '../core/progress';

export interface AddHostInput {
  hostId: string;
  /** Connection attempts before an unreachable host is reported (recorded in history, so replay is stable). */
  connectAttempts: number;
}

export interface AddHostResult {
  hostId: string;
}

const catalogue = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10 },
});

export async function addHost(input: AddHostInput): Promise<AddHostResult> {
  let percent = 0;
  setHandler(progressQuery, () => percent);
  const { probeHost } = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '20 seconds',
      maximumAttempts: input.connectAttempts,
    },
  });

  try {
    const probe = await probeHost({ hostId: input.hostId });
    percent = 80;
    await catalogue.markHostUp({ hostId: input.hostId, probe });
    percent = 100;
    return { hostId: input.hostId };
  } catch (err) {
    await CancellationScope.nonCancellable(() =>
      catalogue.markHostError({ hostId: input.hostId, reason: failureReason(err) }),
    );
    throw asWorkflowFailure(err);
  }
}
