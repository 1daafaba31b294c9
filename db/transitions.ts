// The state machine's writes: each transition is checked against its row kind's table (core/state-machine.ts) and
// executed as one `update … where id = ? and state in (from)`. Zero rows means the row is elsewhere: a retry that
// finds it already in the target state is fine (activities may run twice), anything else fails loudly.
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { PlanFacts, Transition } from '../core/plan';
import { assertLegal, type RowKind } from '../core/state-machine';
import type { Db } from './client';
import {
  cacheLeases,
  hosts,
  snapshots,
  snapshotStoreRefs,
  templatePoolRefs,
  templates,
  templateStoreRefs,
  volumes,
  volumeStoreRefs,
} from './schema';

const tables: Record<RowKind, PgTable> = {
  templateStoreRef: templateStoreRefs,
  templatePoolRef: templatePoolRefs,
  volumeStoreRef: volumeStoreRefs,
  snapshotStoreRef: snapshotStoreRefs,
  volume: volumes,
  snapshot: snapshots,
  template: templates,
  host: hosts,
  cacheLease: cacheLeases,
};

/** The row is not where the transition says it may come from (and not already where it goes). */
export class RowElsewhere extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowElsewhere';
  }
}

export class RowMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowMissing';
  }
}

const isCopy = (kind: RowKind) => kind.endsWith('Ref');
const ends = new Set(['Expunged', 'Destroyed', 'Inactive']);

function column(table: PgTable, name: string): PgColumn | undefined {
  return (table as unknown as Record<string, PgColumn | undefined>)[name];
}

/** The columns a transition writes: its state, its values, the facts it records, and what each state implies. */
function valuesOf(t: Transition, facts: PlanFacts, errorText?: string, jobId?: string): Record<string, unknown> {
  const table = tables[t.row.kind];
  const values: Record<string, unknown> = { state: t.to, ...t.set };
  if (jobId && column(table, 'jobId')) values.jobId = jobId;
  for (const fact of t.record ?? []) if (facts[fact] !== undefined) values[fact] = facts[fact];
  for (const [name, fact] of Object.entries(t.recordAs ?? {})) {
    if (facts[fact] !== undefined) values[name] = facts[fact];
  }
  const errorColumn = t.row.kind === 'host' ? 'lastError' : 'errorText';
  if (column(table, errorColumn) && !(errorColumn in values)) values[errorColumn] = errorText ?? null;
  if (isCopy(t.row.kind)) {
    if (t.to === 'Ready' && column(table, 'downloadPercent')) values.downloadPercent = 100;
    // A resumable upload's saved state belongs to the job that wrote it: it means nothing once the copy is done.
    if (['Ready', 'Failed', 'Destroyed', 'Allocated'].includes(t.to) && column(table, 'transferState')) {
      values.transferState = null;
    }
    values.updated = new Date();
  }
  if (ends.has(t.to) && column(table, 'removed')) values.removed = new Date();
  for (const name of Object.keys(values)) {
    if (!column(table, name)) throw new Error(`a ${t.row.kind} row has no column ${name}`);
  }
  return values;
}

async function applyOne(
  db: Db,
  t: Transition,
  facts: PlanFacts,
  errorText: string | undefined,
  jobId: string | undefined,
  /** A claim: the row must move now; already being there means someone else moved it. */
  strict = false,
): Promise<void> {
  assertLegal(t.row.kind, t.from, t.to);
  const table = tables[t.row.kind];
  const id = column(table, 'id')!;
  const state = column(table, 'state')!;
  const where: SQL = and(eq(id, t.row.id), inArray(state, [...t.from]))!;
  let now: { state: string } | undefined;
  // The API starts a job in the transaction that writes its rows: an idle worker can run the first step before that
  // commits. Found in a from-state after the update missed it, the row has just become visible: try again. Not
  // visible yet is RowMissing, which the activity retries.
  for (let attempt = 0; attempt < 3; attempt++) {
    const moved = await db
      .update(table)
      .set(valuesOf(t, facts, errorText, jobId))
      .where(where)
      .returning({ id });
    if (moved.length > 0) return;
    [now] = (await db.select({ state }).from(table).where(eq(id, t.row.id))) as { state: string }[];
    if (!now) throw new RowMissing(`the ${t.row.kind} ${t.row.id} no longer exists`);
    if (!(t.from as readonly string[]).includes(now.state)) break;
  }
  if (now!.state === t.to && !strict) return;
  throw new RowElsewhere(
    `the ${t.row.kind} ${t.row.id} is ${now!.state}, not ${t.from.join(' or ')}: it cannot become ${t.to}`,
  );
}

/**
 * Locks a row (`select … for update`, inside the caller's transaction) and says its state and the job it names, so
 * a check of who owns it and the write that follows cannot be overtaken by a new claim.
 */
export async function lockRow(
  db: Db,
  kind: RowKind,
  id: string,
): Promise<{ state: string; jobId: string | null } | undefined> {
  const table = tables[kind];
  const jobId = column(table, 'jobId');
  const [row] = (await db
    .select({ state: column(table, 'state')!, ...(jobId ? { jobId } : {}) })
    .from(table)
    .where(eq(column(table, 'id')!, id))
    .for('update')) as { state: string; jobId?: string | null }[];
  return row && { state: row.state, jobId: row.jobId ?? null };
}

/** Applies the transitions in one database transaction: all of them, or none. */
export async function applyTransitions(
  db: Db,
  transitions: readonly Transition[],
  facts: PlanFacts = {},
  errorText?: string,
  jobId?: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    for (const t of transitions) await applyOne(tx, t, facts, errorText, jobId);
  });
}

/**
 * The API's claim of rows for a job (Ready → Destroying, Ready → Migrating…), inside the caller's transaction: true
 * if this call moved every one of them; false if one was elsewhere (another job holds it), and nothing is moved.
 */
export async function claim(db: Db, transitions: readonly Transition[]): Promise<boolean> {
  try {
    await db.transaction(async (tx) => {
      for (const t of transitions) await applyOne(tx, t, {}, undefined, undefined, true);
    });
    return true;
  } catch (err) {
    if (err instanceof RowElsewhere) return false;
    throw err;
  }
}
