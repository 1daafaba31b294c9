// The activity stubs workflows call, grouped by how they may fail and how long they may take.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../core/failures';

/** Failures no retry can fix: the input or the source is wrong. */
const final = [
  FailureType.NotFound,
  FailureType.UrlRefused,
  FailureType.SourceNotFound,
  FailureType.ChecksumMismatch,
  FailureType.FormatMismatch,
  FailureType.NoMotionPlan,
  FailureType.HostCommandFailed,
  FailureType.HostKeyMismatch,
  FailureType.StoreUnavailable,
];

/** Catalogue reads and writes, planning: quick, retried a while. */
export const catalogue = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: final },
});

/**
 * Byte movers (transfers, host conversions): no overall limit to hit on a large object, but a heartbeat deadline, so a
 * dead worker is noticed within `heartbeatSeconds` and the retry resumes from the last heartbeat.
 */
export function movers(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    retry: {
      initialInterval: '1 second',
      maximumInterval: '30 seconds',
      maximumAttempts: 6,
      nonRetryableErrorTypes: final,
    },
  });
}

/**
 * Clean-up that must happen however long it takes (the old copy after a migration committed): retried without
 * limit, backing off to once every five minutes, so a host that comes back gets it done.
 */
export function cleanup(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: `${heartbeatSeconds} seconds`,
    retry: {
      initialInterval: '1 second',
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: [FailureType.NotFound],
    },
  });
}
