import type { ImageStoreDriver, MultipartState } from './contract';

/** The state with one part added or replaced, parts kept in order (a retried part replaces its first try). */
export function withPart(state: MultipartState, part: MultipartState['parts'][number]): MultipartState {
  const parts = state.parts.filter((p) => p.partNumber !== part.partNumber).concat(part);
  return { ...state, parts: parts.sort((a, b) => a.partNumber - b.partNumber) };
}

/** Completes the upload; if an earlier attempt completed it just before dying, accepts what is there when whole. */
export async function completeUpload(driver: ImageStoreDriver, state: MultipartState, bytes: number): Promise<void> {
  try {
    await driver.multipart.complete(state);
  } catch (err) {
    const existing = await driver.head(state.key);
    if (existing?.size !== bytes) throw err;
  }
}
