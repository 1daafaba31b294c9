// The host session limit kept in PostgreSQL (activities/host-session-slots.ts), against the run's database: two handles stand for
// two processes. The limit holds across both, a dead holder's slot frees itself at its expiry, and a live holder's
// renewals keep its slot past that.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, type DbHandle } from '../../db/client';
import { createSharedHostSlots } from '../../activities/host-session-slots';
import { stack } from '../support/stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const handles: DbHandle[] = [];
const open = () => {
  const h = openDb(stack().databaseUrl, { max: 4 });
  handles.push(h);
  return h.db;
};

afterAll(async () => {
  for (const h of handles) await h.close();
});

describe('host session slots shared through the database', () => {
  it('never runs more than the limit on a host across processes, and frees every slot after', async () => {
    const host = `test-${randomUUID()}:22`;
    const a = createSharedHostSlots(open(), { limit: 2 });
    const b = createSharedHostSlots(open(), { limit: 2 });
    let running = 0;
    let peak = 0;
    const job = async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(30);
      running--;
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).run(host, job)));
    // Each process alone would allow 2: together, without the shared count, 4 would run at once.
    expect(peak).toBe(2);
    const sql = postgres(stack().databaseUrl, { max: 1 });
    const rows = await sql`select * from host_session_slots where host = ${host}`;
    await sql.end();
    expect(rows).toHaveLength(0);
  });

  it("takes a dead holder's slot once it expires, and not before", async () => {
    const host = `test-${randomUUID()}:22`;
    const sql = postgres(stack().databaseUrl, { max: 1 });
    // What a SIGKILLed process leaves: its row, no longer renewed.
    await sql`insert into host_session_slots (host, slot, holder, expires_at)
              values (${host}, 0, 'dead:1', now() + interval '2 seconds')`;
    await sql.end();
    const slots = createSharedHostSlots(open(), { limit: 1 });
    const started = Date.now();
    await slots.run(host, () => Promise.resolve());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  it("keeps a live holder's slot past its expiry by renewing it", async () => {
    const host = `test-${randomUUID()}:22`;
    const holder = createSharedHostSlots(open(), { limit: 1, ttlSeconds: 3 });
    const other = createSharedHostSlots(open(), { limit: 1, ttlSeconds: 3 });
    let released = 0;
    const held = holder.run(host, async () => {
      await sleep(5_000);
      released = Date.now();
    });
    await sleep(200);
    let took = 0;
    await other.run(host, () => Promise.resolve((took = Date.now())));
    await held;
    expect(took).toBeGreaterThanOrEqual(released);
  }, 20_000);

  it('a cancelled waiter stops polling for a slot held by another process, and takes none', async () => {
    const host = `test-${randomUUID()}:22`;
    const a = createSharedHostSlots(open(), { limit: 1 });
    const b = createSharedHostSlots(open(), { limit: 1 });
    let release!: () => void;
    const holding = a.run(host, () => new Promise<void>((r) => (release = r)));
    await sleep(200); // a has its slot
    const cancel = new AbortController();
    let ran = false;
    const waiting = b.run(host, () => Promise.resolve((ran = true)), cancel.signal);
    await sleep(300);
    cancel.abort(new Error('the job was cancelled'));
    // It rejects while a still holds the slot: the wait ended on the abort, not when the slot freed.
    await expect(waiting).rejects.toThrow('the job was cancelled');
    release();
    await holding;
    expect(ran).toBe(false);
    const sql = postgres(stack().databaseUrl, { max: 1 });
    const rows = await sql`select * from host_session_slots where host = ${host}`;
    await sql.end();
    expect(rows).toHaveLength(0);
  });
});
