import type { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { heartbeatAlive, heartbeatProgress } from '../../activities/heartbeats';

/** A stand-in for an activity's context that records what each heartbeat carried. */
function fakeContext(startingDetails?: unknown): { context: Context; sent: unknown[] } {
  const sent: unknown[] = [];
  const context = { heartbeat: (d: unknown) => sent.push(d), info: { heartbeatDetails: startingDetails } };
  return { context: context as unknown as Context, sent };
}

describe('heartbeats of one activity', () => {
  it('a keep-alive repeats the latest progress, never erasing what a retry resumes from', () => {
    const { context, sent } = fakeContext({ parts: 1 });
    heartbeatAlive(context); // before any progress: the attempt's starting details
    heartbeatProgress(context, { parts: 2 });
    heartbeatAlive(context);
    heartbeatProgress(context, { parts: 3 });
    heartbeatAlive(context);
    expect(sent).toEqual([{ parts: 1 }, { parts: 2 }, { parts: 2 }, { parts: 3 }, { parts: 3 }]);
  });

  it('keeps each activity its own latest progress', () => {
    const a = fakeContext();
    const b = fakeContext({ parts: 9 });
    heartbeatProgress(a.context, { parts: 1 });
    heartbeatAlive(b.context);
    heartbeatAlive(a.context);
    expect(a.sent).toEqual([{ parts: 1 }, { parts: 1 }]);
    expect(b.sent).toEqual([{ parts: 9 }]);
  });
});
