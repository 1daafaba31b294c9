// One activity's heartbeats come from several places (the transfer engine with its progress, a host command or a
// wait for a host slot just to stay alive): each heartbeat carries the latest progress details, so a keep-alive
// never erases the progress a retry resumes from (Temporal keeps only the last heartbeat's details).
import type { Context } from '@temporalio/activity';

const latest = new WeakMap<Context, unknown>();

/** Heartbeats `details` as the activity's progress: what a retry of this activity will resume from. */
export function heartbeatProgress(context: Context, details: unknown): void {
  latest.set(context, details);
  context.heartbeat(details);
}

/** Heartbeats to say the activity is alive, repeating its latest progress (or the attempt's starting details). */
export function heartbeatAlive(context: Context): void {
  context.heartbeat(latest.has(context) ? latest.get(context) : context.info.heartbeatDetails);
}
