// The per-host session limit across every process on one database: any number of workers share it.
// A session holds a row of host_session_slots (slot 0 … limit-1 of its host) and renews the row's expiry while it
// runs; a process that dies stops renewing, so its slots free themselves within the expiry, leaking nothing.
// Within a process, sessions first queue locally (ssh/host-slots.ts, same limit): a process never holds or polls
// for more slots of a host than the limit, however many activities want that host.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { createHostSlots, type HostSlots } from '../ssh/host-slots';
import type { Db } from '../db/client';
import { hostSessionSlots } from '../db/schema';

export interface SharedHostSlotsOptions {
  limit: number;
  /** How long a slot outlives its holder's last renewal (renewed every third of it). */
  ttlSeconds?: number;
  /** Called when a held slot could not be renewed (the database was unreachable, or the slot expired meanwhile). */
  onRenewFailed?: (host: string, reason: string) => void;
}

const DEFAULT_TTL_S = 30;
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 1_000;

export function createSharedHostSlots(db: Db, options: SharedHostSlotsOptions): HostSlots {
  const { limit } = options;
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 3) throw new Error(`a host slot expiry must be at least 3 s, not ${ttl}`);
  const local = createHostSlots(limit);
  const process_ = `${hostname()}:${process.pid}`;
  const expiry = sql`now() + make_interval(secs => ${ttl})`;
  const t = hostSessionSlots;

  /** Takes a free (absent or expired) slot of `host` in one statement; undefined when all are live. */
  async function tryTake(host: string, holder: string): Promise<number | undefined> {
    // Two takers may pick the same free slot: the insert's conflict check makes one of them find it live and
    // take nothing, and it tries again.
    const rows = await db.execute<{ slot: number }>(sql`
      insert into ${t} (host, slot, holder, expires_at)
      select ${host}, s, ${holder}, ${expiry}
        from generate_series(0, ${limit - 1}::int) as s
       where not exists (select 1 from ${t} h where h.host = ${host} and h.slot = s and h.expires_at > now())
       order by random()
       limit 1
      on conflict (host, slot) do update set holder = excluded.holder, expires_at = excluded.expires_at
        where ${t.expiresAt} <= now()
      returning slot`);
    return rows[0]?.slot;
  }

  async function take(host: string, holder: string, signal: AbortSignal | undefined): Promise<number> {
    for (let wait = POLL_MIN_MS; ; wait = Math.min(wait * 2, POLL_MAX_MS)) {
      signal?.throwIfAborted();
      const slot = await tryTake(host, holder);
      if (slot !== undefined) return slot;
      try {
        await sleep(wait / 2 + Math.random() * wait, undefined, { signal });
      } catch (err) {
        signal?.throwIfAborted(); // with the signal's own reason, not the timer's AbortError
        throw err;
      }
    }
  }

  return {
    run(host, work, signal) {
      return local.run(
        host,
        async () => {
          const holder = `${process_}:${randomUUID()}`;
          const slot = await take(host, holder, signal);
          const mine = sql`${t.host} = ${host} and ${t.slot} = ${slot} and ${t.holder} = ${holder}`;
          const renew = setInterval(
            () => {
              db.execute(sql`update ${t} set expires_at = ${expiry} where ${mine} returning slot`).then(
                (rows) => {
                  if (rows.length === 0) options.onRenewFailed?.(host, `slot ${slot} expired before it was renewed`);
                },
                (err: unknown) => options.onRenewFailed?.(host, err instanceof Error ? err.message : String(err)),
              );
            },
            (ttl * 1000) / 3,
          );
          try {
            signal?.throwIfAborted(); // cancelled while the slot was being taken: nothing is started
            return await work();
          } finally {
            clearInterval(renew);
            // A release that fails leaves the row to expire: never worse than a dead holder.
            await db.execute(sql`delete from ${t} where ${mine}`).catch(() => undefined);
          }
        },
        signal,
      );
    },
  };
}
