// Keeps staged bytes close to the hosts that read them: a store of the placement's cluster, else of its pod, else
// the zone's. Within the nearest tier, a store already holding the object wins, then the least busy.
import { byName, hasRoom, type CacheAllocator, type CacheCandidate, type CachePlacement } from './contract';

function tier(c: CacheCandidate, p: CachePlacement): number {
  if (c.scope === 'CLUSTER' && p.clusterId && c.clusterId === p.clusterId) return 0;
  if (c.scope === 'POD' && p.podId && c.podId === p.podId) return 1;
  if (c.scope === 'ZONE' && c.zoneId === p.zoneId) return 2;
  return 3; // does not serve this placement; kept last rather than trusted
}

export const scopeAffinityAllocator: CacheAllocator = {
  name: 'scopeaffinity',
  description: "the placement's cluster-scoped cache store, else its pod's, else the zone's",
  choose(candidates, placement) {
    const withRoom = candidates.filter(hasRoom);
    const pool = (withRoom.length > 0 ? withRoom : candidates).filter((c) => tier(c, placement) < 3);
    return [...pool].sort(
      (a, b) =>
        tier(a, placement) - tier(b, placement) ||
        Number(b.holdsObjectReady) - Number(a.holdsObjectReady) ||
        a.activeLeases - b.activeLeases ||
        byName(a, b),
    )[0];
  },
};
