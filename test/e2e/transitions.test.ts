// The state machine's writes on the real database: conditional updates, a retry that finds the row already moved,
// a claim that another job won, an illegal transition refused before SQL, and all-or-nothing batches.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transition } from '../../core/plan';
import { IllegalTransition } from '../../core/state-machine';
import { openDb, type DbHandle } from '../../db/client';
import { users, volumes, zones } from '../../db/schema';
import { applyTransitions, claim, RowElsewhere, RowMissing } from '../../db/transitions';
import { stack, unique } from '../support/stack';

let handle: DbHandle;
let zoneId: string;
let ownerId: string;

async function volume(state: 'Ready' | 'Migrating' | 'Creating' = 'Ready'): Promise<string> {
  const id = randomUUID();
  await handle.db.insert(volumes).values({ id, name: unique('v'), zoneId, format: 'QCOW2', state, ownerId });
  return id;
}

const stateOf = async (id: string) =>
  (
    await handle.db
      .select({ state: volumes.state, errorText: volumes.errorText })
      .from(volumes)
      .where(eq(volumes.id, id))
  )[0];

beforeAll(async () => {
  handle = openDb(stack().databaseUrl, { max: 2 });
  const [zone] = await handle.db
    .insert(zones)
    .values({ name: unique('sm-zone') })
    .returning({ id: zones.id });
  zoneId = zone!.id;
  ownerId = (await handle.db.select({ id: users.id }).from(users).limit(1))[0]!.id;
});

afterAll(async () => {
  await handle.db.delete(volumes).where(eq(volumes.zoneId, zoneId));
  await handle.db.delete(zones).where(eq(zones.id, zoneId));
  await handle.close();
});

describe('state-machine writes', () => {
  it('moves a row only from the states it names, and a retry that finds it moved is fine', async () => {
    const id = await volume('Creating');
    const done = transition('volume', id, ['Creating'], 'Ready', { record: ['size'] });
    await applyTransitions(handle.db, [done], { size: 4096 });
    await applyTransitions(handle.db, [done], { size: 4096 });
    expect(await stateOf(id)).toEqual({ state: 'Ready', errorText: null });
  });

  it('records a fact under another column with recordAs, only when the fact is known', async () => {
    const sizes = async (id: string) =>
      (
        await handle.db
          .select({ size: volumes.size, physicalSize: volumes.physicalSize })
          .from(volumes)
          .where(eq(volumes.id, id))
      )[0];
    const upload = (id: string) =>
      transition('volume', id, ['Creating'], 'Ready', {
        record: ['size', 'physicalSize'],
        recordAs: { size: 'virtualSize' },
      });
    const qcow2 = await volume('Creating');
    await applyTransitions(handle.db, [upload(qcow2)], { size: 458752, physicalSize: 458752, virtualSize: 16 << 20 });
    expect(await sizes(qcow2)).toEqual({ size: 16 << 20, physicalSize: 458752 });
    // No virtual size learned (a header that does not say it): the size recorded by name stands.
    const other = await volume('Creating');
    await applyTransitions(handle.db, [upload(other)], { size: 4096, physicalSize: 4096 });
    expect(await sizes(other)).toEqual({ size: 4096, physicalSize: 4096 });
  });

  it('fails loudly when the row is elsewhere', async () => {
    const id = await volume('Ready');
    await expect(applyTransitions(handle.db, [transition('volume', id, ['Creating'], 'Error')])).rejects.toThrow(
      RowElsewhere,
    );
    expect((await stateOf(id))!.state).toBe('Ready');
    await expect(
      applyTransitions(handle.db, [transition('volume', randomUUID(), ['Ready'], 'Migrating')]),
    ).rejects.toThrow(RowMissing);
  });

  it('refuses an illegal transition before any SQL', async () => {
    const id = await volume('Ready');
    await expect(applyTransitions(handle.db, [transition('volume', id, ['Ready'], 'Expunged')])).rejects.toThrow(
      IllegalTransition,
    );
    expect((await stateOf(id))!.state).toBe('Ready');
  });

  it('writes the reason with a failure', async () => {
    const id = await volume('Creating');
    await applyTransitions(handle.db, [transition('volume', id, ['Creating'], 'Error')], {}, 'the host went away');
    expect(await stateOf(id)).toEqual({ state: 'Error', errorText: 'the host went away' });
  });

  it('a claim is strict: one of two concurrent claims wins, the row already there is not a win', async () => {
    const id = await volume('Ready');
    const claimIt = () => claim(handle.db, [transition('volume', id, ['Ready'], 'Migrating')]);
    const results = await Promise.all([claimIt(), claimIt()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await claimIt()).toBe(false);
  });

  it('applies a batch all or nothing', async () => {
    const a = await volume('Ready');
    const b = await volume('Creating');
    await expect(
      applyTransitions(handle.db, [
        transition('volume', a, ['Ready'], 'Migrating'),
        transition('volume', b, ['Ready'], 'Migrating'),
      ]),
    ).rejects.toThrow(RowElsewhere);
    expect((await stateOf(a))!.state).toBe('Ready');
  });
});
