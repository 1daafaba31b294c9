// Copies on image stores of every object type keep the same transfer facts (percent done, the multipart state saved
// after each part), so the transfer engine can save and resume them without knowing which object it moves.
import { eq } from 'drizzle-orm';
import type { RowRef } from '../core/plan';
import type { Db } from '../db/client';
import { snapshotStoreRefs, templateStoreRefs, volumeStoreRefs } from '../db/schema';
import type { MultipartState } from '../plugins/image-stores/contract';

const tables = {
  templateStoreRef: templateStoreRefs,
  snapshotStoreRef: snapshotStoreRefs,
  volumeStoreRef: volumeStoreRefs,
} as const;

function tableOf(row: RowRef) {
  if (!(row.kind in tables)) throw new Error(`a ${row.kind} row keeps no transfer state`);
  return tables[row.kind as keyof typeof tables];
}

export async function saveTransferState(db: Db, row: RowRef, state: MultipartState, percent: number): Promise<void> {
  const table = tableOf(row);
  await db
    .update(table)
    .set({ downloadPercent: percent, transferState: state, updated: new Date() })
    .where(eq(table.id, row.id));
}

/** The saved state of an upload to `key` on the row, if any. */
export async function savedTransferState(db: Db, row: RowRef, key: string): Promise<MultipartState | undefined> {
  const table = tableOf(row);
  const [ref] = await db.select({ state: table.transferState }).from(table).where(eq(table.id, row.id));
  return ref?.state?.key === key ? ref.state : undefined;
}
