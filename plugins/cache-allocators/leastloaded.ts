// Spreads staging work: the store with the fewest active leases, then the fewest bytes reserved lately.
import { byName, hasRoom, type CacheAllocator } from './contract';

export const leastLoadedAllocator: CacheAllocator = {
  name: 'leastloaded',
  description: 'the cache store with the fewest active leases, then the fewest bytes reserved in the last hour',
  choose(candidates) {
    // A full store is chosen only when every store is full (the copy may still fit; refusing helps no one).
    const withRoom = candidates.filter(hasRoom);
    const pool = withRoom.length > 0 ? withRoom : candidates;
    return [...pool].sort(
      (a, b) =>
        a.activeLeases - b.activeLeases ||
        a.recentBytes - b.recentBytes ||
        a.reservedBytes - b.reservedBytes ||
        byName(a, b),
    )[0];
  },
};
