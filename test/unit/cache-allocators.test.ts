// The cache allocators are pure choices over candidate lists: each policy's preferences, ties and edge cases.
import { describe, expect, it } from 'vitest';
import { hasRoom, type CacheCandidate, type CachePlacement } from '../../plugins/cache-allocators/contract';
import { leastLoadedAllocator } from '../../plugins/cache-allocators/leastloaded';
import { randomAllocator } from '../../plugins/cache-allocators/random';
import { cacheAllocators, findCacheAllocator } from '../../plugins/cache-allocators/registry';
import { scopeAffinityAllocator } from '../../plugins/cache-allocators/scopeaffinity';

const placement: CachePlacement = {
  zoneId: 'z1',
  podId: 'p1',
  clusterId: 'c1',
  objectType: 'template',
  objectId: 't1',
};

const store = (name: string, extra: Partial<CacheCandidate> = {}): CacheCandidate => ({
  storeId: `id-${name}`,
  storeName: name,
  hostPath: `/mnt/${name}`,
  scope: 'ZONE',
  zoneId: 'z1',
  activeLeases: 0,
  reservedBytes: 0,
  recentBytes: 0,
  holdsObjectReady: false,
  ...extra,
});

const names = (c: CacheCandidate | undefined) => c?.storeName;
const fixed = (value: number) => ({ random: () => value });

describe('registry', () => {
  it('finds each allocator by its setting value, case-insensitively, and nothing else', () => {
    expect(cacheAllocators.map((a) => a.name)).toEqual(['random', 'leastloaded', 'scopeaffinity']);
    expect(findCacheAllocator(' LeastLoaded ')).toBe(leastLoadedAllocator);
    expect(findCacheAllocator('roundrobin')).toBeUndefined();
  });
});

describe('hasRoom', () => {
  it('counts what active leases reserved against the 90% mark, and trusts stores that report no capacity', () => {
    expect(hasRoom(store('a', { totalBytes: 100, usedBytes: 50, reservedBytes: 39 }))).toBe(true);
    expect(hasRoom(store('a', { totalBytes: 100, usedBytes: 50, reservedBytes: 40 }))).toBe(false);
    expect(hasRoom(store('a', { reservedBytes: 10 ** 15 }))).toBe(true);
  });
});

describe('random', () => {
  const a = store('a');
  const b = store('b');
  const c = store('c');

  it('returns nothing without candidates', () => {
    expect(randomAllocator.choose([], placement)).toBeUndefined();
  });

  it('picks by the random number among all candidates', () => {
    expect(names(randomAllocator.choose([a, b, c], placement, fixed(0)))).toBe('a');
    expect(names(randomAllocator.choose([a, b, c], placement, fixed(0.5)))).toBe('b');
    expect(names(randomAllocator.choose([a, b, c], placement, fixed(0.9999)))).toBe('c');
  });

  it('spreads choices over every candidate with Math.random', () => {
    const seen = new Set(Array.from({ length: 200 }, () => names(randomAllocator.choose([a, b, c], placement))));
    expect(seen).toEqual(new Set(['a', 'b', 'c']));
  });

  it('prefers a store already holding the object Ready, whatever the random number', () => {
    const holder = store('b', { holdsObjectReady: true });
    for (const r of [0, 0.5, 0.99])
      expect(names(randomAllocator.choose([a, holder, c], placement, fixed(r)))).toBe('b');
  });

  it('skips a full store, even one holding the object, while another has room', () => {
    const fullHolder = store('a', { holdsObjectReady: true, totalBytes: 100, usedBytes: 95 });
    expect(names(randomAllocator.choose([fullHolder, b], placement, fixed(0)))).toBe('b');
  });

  it('still chooses when every store is full', () => {
    const full = store('a', { totalBytes: 100, usedBytes: 100 });
    expect(names(randomAllocator.choose([full], placement, fixed(0)))).toBe('a');
  });
});

describe('leastloaded', () => {
  it('chooses the fewest active leases first', () => {
    const chosen = leastLoadedAllocator.choose(
      [
        store('a', { activeLeases: 2 }),
        store('b', { activeLeases: 1, recentBytes: 10 ** 9 }),
        store('c', { activeLeases: 3 }),
      ],
      placement,
    );
    expect(names(chosen)).toBe('b');
  });

  it('breaks lease ties by recent bytes, then reserved bytes, then name', () => {
    expect(
      names(
        leastLoadedAllocator.choose([store('a', { recentBytes: 500 }), store('b', { recentBytes: 100 })], placement),
      ),
    ).toBe('b');
    expect(
      names(
        leastLoadedAllocator.choose([store('a', { reservedBytes: 5 }), store('b', { reservedBytes: 1 })], placement),
      ),
    ).toBe('b');
    expect(names(leastLoadedAllocator.choose([store('b'), store('a')], placement))).toBe('a');
  });

  it('passes over a full store while another has room', () => {
    const idleButFull = store('a', { totalBytes: 100, usedBytes: 99 });
    expect(names(leastLoadedAllocator.choose([idleButFull, store('b', { activeLeases: 4 })], placement))).toBe('b');
  });

  it('returns nothing without candidates', () => {
    expect(leastLoadedAllocator.choose([], placement)).toBeUndefined();
  });
});

describe('scopeaffinity', () => {
  const zone = store('zone', { activeLeases: 0 });
  const pod = store('pod', { scope: 'POD', podId: 'p1', activeLeases: 5 });
  const cluster = store('cluster', { scope: 'CLUSTER', podId: 'p1', clusterId: 'c1', activeLeases: 9 });

  it('prefers the cluster-scoped store, then the pod-scoped one, then the zone-wide one', () => {
    expect(names(scopeAffinityAllocator.choose([zone, pod, cluster], placement))).toBe('cluster');
    expect(names(scopeAffinityAllocator.choose([zone, pod], placement))).toBe('pod');
    expect(names(scopeAffinityAllocator.choose([zone], placement))).toBe('zone');
  });

  it('ignores stores of another pod or cluster, even when handed them', () => {
    const otherCluster = store('other', { scope: 'CLUSTER', podId: 'p1', clusterId: 'c2' });
    const otherPod = store('otherpod', { scope: 'POD', podId: 'p2' });
    expect(names(scopeAffinityAllocator.choose([otherCluster, otherPod, zone], placement))).toBe('zone');
    expect(scopeAffinityAllocator.choose([otherCluster], placement)).toBeUndefined();
  });

  it('within a tier, prefers the store holding the object, then the least busy', () => {
    const z2 = store('z2', { activeLeases: 3, holdsObjectReady: true });
    const z3 = store('z3', { activeLeases: 1 });
    expect(names(scopeAffinityAllocator.choose([zone, z2], placement))).toBe('z2');
    expect(names(scopeAffinityAllocator.choose([z3, store('z4', { activeLeases: 2 })], placement))).toBe('z3');
  });

  it('falls back to a wider scope when the nearer store is full', () => {
    const fullCluster = { ...cluster, totalBytes: 100, usedBytes: 100 };
    expect(names(scopeAffinityAllocator.choose([zone, pod, fullCluster], placement))).toBe('pod');
  });

  it('a placement that names no pod or cluster gets the zone-wide store', () => {
    const zoneOnly = { zoneId: 'z1', objectType: 'template', objectId: 't1' };
    expect(names(scopeAffinityAllocator.choose([pod, cluster, zone], zoneOnly))).toBe('zone');
  });
});
