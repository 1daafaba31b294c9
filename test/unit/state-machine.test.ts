// The transition tables: what each row kind may do, and that anything else fails loudly before any SQL runs.
import { describe, expect, it } from 'vitest';
import { transition } from '../../core/plan';
import { assertLegal, IllegalTransition, isLegal, predecessors, transitionTables } from '../../core/state-machine';

describe('the state machine', () => {
  it('lets a copy go Allocated → Creating → Ready → Destroying → Destroyed, and a failed one be revived', () => {
    for (const [from, to] of [
      ['Allocated', 'Creating'],
      ['Creating', 'Ready'],
      ['Ready', 'Destroying'],
      ['Destroying', 'Destroyed'],
      ['Failed', 'Allocated'],
    ])
      expect(isLegal('templateStoreRef', from!, to!), `${from} → ${to}`).toBe(true);
  });

  it('refuses what would lie about where data is', () => {
    // A Ready copy never fails after the fact; a destroyed one never becomes Ready; an expunged volume stays so.
    expect(() => assertLegal('snapshotStoreRef', ['Ready'], 'Failed')).toThrow(IllegalTransition);
    expect(() => assertLegal('volumeStoreRef', ['Destroyed'], 'Ready')).toThrow(/Destroyed → Ready/);
    expect(() => assertLegal('volume', ['Expunged'], 'Ready')).toThrow(IllegalTransition);
    expect(() => assertLegal('snapshot', ['BackedUp'], 'Error')).toThrow(IllegalTransition);
    expect(() => assertLegal('cacheLease', ['Released'], 'Active')).toThrow(IllegalTransition);
  });

  it('checks every origin a write names', () => {
    expect(() => assertLegal('volume', ['Creating', 'Ready'], 'Error')).toThrow(/Ready → Error/);
    expect(() => assertLegal('volume', ['Allocated', 'Creating'], 'Error')).not.toThrow();
  });

  it('knows where a state may be reached from', () => {
    expect(predecessors('volume', 'Migrating')).toEqual(['Ready']);
    expect(predecessors('snapshot', 'Error').sort()).toEqual(
      ['Allocated', 'BackingUp', 'CreatedOnPrimary', 'Creating', 'Destroying'].sort(),
    );
  });

  it('has a table for every row kind, naming only its own states', () => {
    for (const [kind, table] of Object.entries(transitionTables)) {
      const states = new Set(Object.keys(table));
      for (const targets of Object.values(table) as string[][]) {
        for (const to of targets) expect(states.has(to), `${kind}: ${to}`).toBe(true);
      }
    }
  });

  it('builds transitions as plain data', () => {
    expect(transition('volume', 'v1', ['Migrating'], 'Ready', { set: { migratingTo: null } })).toEqual({
      row: { kind: 'volume', id: 'v1' },
      from: ['Migrating'],
      to: 'Ready',
      set: { migratingTo: null },
    });
  });
});
