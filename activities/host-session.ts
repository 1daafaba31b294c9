// A host session taken from inside an activity. While it waits for one of the host's slots (every worker shares the
// host's limit) it heartbeats, so a cancellation reaches it and a long wait is not taken for a dead worker, and a
// cancellation ends the wait at once instead of when a slot frees. Outside an activity it is a plain session.
import { Context } from '@temporalio/activity';
import type { HostEndpoint, HostSession, SshExecutor } from '../ssh/executor';
import { heartbeatAlive } from './heartbeats';

/** The running activity's context; none when called outside an activity (the API and tests call some directly). */
export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

const WAIT_HEARTBEAT_MS = 1_000;

export async function inHostSession<T>(
  ssh: SshExecutor,
  endpoint: HostEndpoint,
  work: (session: HostSession) => Promise<T>,
): Promise<T> {
  const context = currentActivity();
  if (!context) return await ssh.withSession(endpoint, work);
  const beat = setInterval(() => heartbeatAlive(context), WAIT_HEARTBEAT_MS);
  try {
    return await ssh.withSession(
      endpoint,
      (session) => {
        clearInterval(beat); // the work heartbeats as it goes (runOrFail, the transfer engine)
        return work(session);
      },
      { signal: context.cancellationSignal },
    );
  } finally {
    clearInterval(beat);
  }
}
