// The capacity checks of commands that write: a pool or store that cannot hold the object refuses the command with
// 533 and a sentence saying how much is free and how much is needed, before any row is saved (planning/capacity.ts
// says how space is reckoned).
import type { imageStores } from '../../db/schema';
import { formatBytes, poolSpace, storeSpace, unitOf } from '../../planning/capacity';
import { openImageStore } from '../../plugins/image-stores/registry';
import type { StoreCapacity } from '../../plugins/image-stores/contract';
import type { CommandContext } from '../command';
import { ApiError, ErrorCode } from '../errors';

function refuse(where: string, free: number, what: string, bytes: number): ApiError {
  // Both in one unit, so the two figures compare at a glance, unless that would show a little free space as none.
  const unit = unitOf(Math.max(free, bytes));
  const shown = (n: number) => (free === 0 || free >= unit.size / 100 ? formatBytes(n, unit) : formatBytes(n));
  return new ApiError(
    ErrorCode.InsufficientCapacity,
    `${where} has ${shown(free)} free; ${what} needs ${shown(bytes)}.`,
  );
}

/** Refuses with 533 unless the pool can take `bytes` more (what: "the volume", "the template copy"). */
export async function requirePoolSpace(
  ctx: CommandContext,
  pool: { id: string; name: string },
  bytes: number,
  what: string,
): Promise<void> {
  const space = await poolSpace(ctx.db, pool.id);
  if (space.freeBytes !== undefined && bytes > space.freeBytes) {
    throw refuse(`Pool ${pool.name}`, space.freeBytes, what, bytes);
  }
}

/** What the store's backend reports now; undefined if it cannot be asked (the job will say why it cannot write). */
async function reportOf(
  ctx: CommandContext,
  store: typeof imageStores.$inferSelect,
): Promise<StoreCapacity | undefined> {
  try {
    const driver = openImageStore(store, ctx.secrets, ctx.storeServices);
    try {
      return await driver.capacity();
    } finally {
      await driver.close();
    }
  } catch {
    return undefined;
  }
}

/** Refuses with 533 unless the image store can take `bytes` more. */
export async function requireStoreSpace(
  ctx: CommandContext,
  store: typeof imageStores.$inferSelect,
  bytes: number,
  what: string,
): Promise<void> {
  const space = await storeSpace(ctx.db, store.id, await reportOf(ctx, store));
  if (space.freeBytes !== undefined && bytes > space.freeBytes) {
    throw refuse(`Image store ${store.name}`, space.freeBytes, what, bytes);
  }
}
