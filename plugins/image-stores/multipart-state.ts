import type { MultipartState } from './contract';

/** The state with one part added or replaced, parts kept in order (a retried part replaces its first try). */
export function withPart(state: MultipartState, part: MultipartState['parts'][number]): MultipartState {
  const parts = state.parts.filter((p) => p.partNumber !== part.partNumber).concat(part);
  return { ...state, parts: parts.sort((a, b) => a.partNumber - b.partNumber) };
}
