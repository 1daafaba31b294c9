import { describe, expect, it } from 'vitest';
import { createHostSlots } from '../../ssh/host-slots';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('per-host session slots', () => {
  it('runs at most `limit` at once per host, the rest in order, and other hosts independently', async () => {
    const slots = createHostSlots(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (n: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      order.push(n);
      running--;
      return n;
    };
    const other = slots.run('host-b', job(99));
    expect(slots.load('host-b')).toEqual({ running: 1, waiting: 0 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => slots.run('host-a', job(n))));
    await other;
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBeLessThanOrEqual(3); // two on host-a plus the one on host-b
    expect(order.filter((n) => n !== 99)).toEqual([1, 2, 3, 4, 5]);
    expect(slots.load('host-a')).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot when the work fails', async () => {
    const slots = createHostSlots(1);
    await expect(slots.run('h', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run('h', () => Promise.resolve('next'))).resolves.toBe('next');
    expect(() => createHostSlots(0)).toThrow(/at least 1/);
  });

  it('an abort while waiting leaves the line: the waiter rejects, its work never runs, the next one gets the slot', async () => {
    const slots = createHostSlots(1);
    let release!: () => void;
    const holding = slots.run('h', () => new Promise<void>((r) => (release = r)));
    const cancel = new AbortController();
    let ran = false;
    const cancelled = slots.run('h', () => Promise.resolve((ran = true)), cancel.signal);
    const next = slots.run('h', () => Promise.resolve('next'));
    expect(slots.load('h')).toEqual({ running: 1, waiting: 2 });
    cancel.abort(new Error('the job was cancelled'));
    await expect(cancelled).rejects.toThrow('the job was cancelled');
    expect(slots.load('h')).toEqual({ running: 1, waiting: 1 });
    release();
    await holding;
    await expect(next).resolves.toBe('next');
    expect(ran).toBe(false);
    // Aborted before asking: refused at once, nothing taken.
    await expect(slots.run('h', () => Promise.resolve(), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(slots.load('h')).toEqual({ running: 0, waiting: 0 });
  });
});
