// CloudStack's StorageCacheRandomAllocator: any store that can serve the placement, chosen at random, except that
// a store already holding the object Ready (and with room) is preferred, so the object is not staged twice.
import { hasRoom, type CacheAllocator, type CacheCandidate } from './contract';

const pick = (list: readonly CacheCandidate[], random: () => number) =>
  list[Math.min(list.length - 1, Math.floor(random() * list.length))];

export const randomAllocator: CacheAllocator = {
  name: 'random',
  description: 'random among the cache stores that serve the placement, preferring one already holding the object',
  choose(candidates, _placement, options = {}) {
    const random = options.random ?? Math.random;
    if (candidates.length === 0) return undefined;
    const withRoom = candidates.filter(hasRoom);
    const holding = withRoom.filter((c) => c.holdsObjectReady);
    if (holding.length > 0) return pick(holding, random);
    return pick(withRoom.length > 0 ? withRoom : candidates, random);
  },
};
