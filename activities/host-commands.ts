// Running one command on a host where failure is final: a non-zero exit becomes a HostCommandFailed failure with
// the host's own error text. The activity heartbeats while it waits, so a long conversion is not taken for a dead one,
// and a cancelled activity stops waiting for its command.
import { posix } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../core/failures';
import type { CommandResult, HostSession } from '../ssh/executor';
import { heartbeatAlive } from './heartbeats';

export async function runOrFail(
  session: HostSession,
  hostName: string,
  argv: readonly string[],
  timeoutMs?: number,
): Promise<CommandResult> {
  // Heartbeats bring a cancellation back within seconds; the command's channel is then closed at once.
  const context = Context.current();
  const beat = setInterval(() => heartbeatAlive(context), 1000);
  try {
    const signal = context.cancellationSignal;
    const result = await session.run(argv, timeoutMs === undefined ? { signal } : { timeoutMs, signal });
    if (result.exitCode !== 0) {
      throw ApplicationFailure.nonRetryable(
        `${argv[0]} failed on the host ${hostName} (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 500)}`,
        FailureType.HostCommandFailed,
      );
    }
    return result;
  } finally {
    clearInterval(beat);
  }
}

const MiB = 1024 * 1024;

/**
 * Where a file is written before it is whole: a hidden name beside it, renamed onto the real one at the end, so a
 * half-written file never carries the final name (and removing a file removes its temporary too).
 */
export const tempPathOf = (path: string) => posix.join(posix.dirname(path), `.${posix.basename(path)}.ferry-tmp`);

/**
 * How long one host command that moves `bytes` may run: a floor, plus the time those bytes take at a slow 2 MiB/s.
 * The limit grows with the disk, so a large volume never meets a fixed cliff; a stall is still ended.
 */
export function phaseLimitMs(bytes: number | null | undefined): number {
  const floor = 15 * 60_000;
  return bytes == null ? 6 * 3_600_000 : floor + Math.ceil(bytes / (2 * MiB)) * 1000;
}

/** curl gives up on a transfer that stays below 1 KiB/s for five minutes (a dead peer), whatever its size. */
export const curlStallLimit = ['--speed-limit', '1024', '--speed-time', '300'];

/**
 * curl rides out a store that is briefly away for about a minute (twelve more tries, 5 s apart) within the one
 * command: a restarting object store costs a pause, not a failed job and an undo that cannot reach the store either.
 * Every error is retried, a connection reset or an empty reply too (what a restarting store gives); the part PUT and
 * the fetch are idempotent, so a retried final error (403, 404) only costs that minute. No --retry-max-time: it
 * counts from the first try, so a long transfer that failed late would not be retried at all.
 */
export const curlRetryTransient = ['--retry', '12', '--retry-delay', '5', '--retry-all-errors'];
