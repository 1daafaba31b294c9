// The values the setting storage.cache.allocator accepts, one per policy in plugins/cache-allocators/registry.ts.
// Listed here as plain data so core/settings needs no plugin; a unit test keeps this list and the registry equal.

export const cacheAllocatorChoices: readonly { name: string; description: string }[] = [
  {
    name: 'random',
    description: 'random among the cache stores that serve the placement, preferring one already holding the object',
  },
  {
    name: 'leastloaded',
    description: 'the cache store with the fewest active leases, then the fewest bytes reserved in the last hour',
  },
  { name: 'scopeaffinity', description: "the placement's cluster-scoped cache store, else its pod's, else the zone's" },
];
