// Running one command on a host where failure is final: a non-zero exit becomes a HostCommandFailed failure with
// the host's own error text. The activity heartbeats while it waits, so a long conversion is not taken for a dead one.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../core/failures';
import type { CommandResult, HostSession } from '../ssh/executor';

export async function runOrFail(
  session: HostSession,
  hostName: string,
  argv: readonly string[],
  timeoutMs?: number,
): Promise<CommandResult> {
  const beat = setInterval(() => Context.current().heartbeat(), 5000);
  try {
    const result = await session.run(argv, timeoutMs === undefined ? {} : { timeoutMs });
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
