// The activity stubs workflows call, grouped by how they may fail and how long they may take. Which failures are
// final is decided once, in core/failures.ts.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { finalFailureTypes } from '../core/failures';

const nonRetryableErrorTypes = [...finalFailureTypes];

/** Catalogue reads and writes: quick, retried a while. */
export const catalogue = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes },
});

/**
 * Byte movers (transfers, host conversions): no overall limit to hit on a large object, but a heartbeat deadline, so a
 * dead worker is noticed within `heartbeatSeconds` and the retry resumes from the last heartbeat. Ten attempts, backing
 * off to 30 s, ride out about two and a half minutes of a store or host that is away (a restart); six, about 30 s,
 * failed a registration when the fault harness stopped the S3 server for 30 s. A cancelled job waits until the
 * activity has really stopped (its heartbeat delivers the cancellation), so the undos never race a transfer that is
 * still writing.
 */
export function movers(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes },
  });
}

/**
 * Undos before a commit: retried a few times, then reported (logged) so a dead host cannot keep a failed job from
 * ending and saying so.
 */
export const compensation = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '60 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes },
});

/**
 * Clean-up that must happen however long it takes (the old copy after a migration committed): retried without
 * limit, backing off to once every five minutes, so a host that comes back gets it done.
 */
export function cleanup(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '5 minutes', nonRetryableErrorTypes: ['NotFound'] },
  });
}
