// Copies on image stores of every object type keep the same transfer facts (percent done, the multipart state saved
// after each part), so a transfer can save and resume them without knowing which object it moves.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { snapshotStoreRefs, templateStoreRefs, volumeStoreRefs } from '../db/schema';
import type { MultipartState } from '../plugins/image-stores/contract';

export type RefKind = 'template' | 'snapshot' | 'volume';

const tables = { template: templateStoreRefs, snapshot: snapshotStoreRefs, volume: volumeStoreRefs } as const;

export async function saveTransferState(
  db: Db,
  kind: RefKind,
  refId: string,
  state: MultipartState,
  percent: number,
): Promise<void> {
  const table = tables[kind];
  await db
    .update(table)
    .set({ downloadPercent: percent, transferState: state, updated: new Date() })
    .where(eq(table.id, refId));
}

export async function savedTransferState(db: Db, kind: RefKind, refId: string): Promise<MultipartState | undefined> {
  const table = tables[kind];
  const [ref] = await db.select({ state: table.transferState }).from(table).where(eq(table.id, refId));
  return ref?.state ?? undefined;
}
