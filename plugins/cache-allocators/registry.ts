// Every cache allocator, by the name the setting storage.cache.allocator uses. A new policy = one file + one line.
import type { CacheAllocator } from './contract';
import { leastLoadedAllocator } from './leastloaded';
import { randomAllocator } from './random';
import { scopeAffinityAllocator } from './scopeaffinity';

export const cacheAllocators: readonly CacheAllocator[] = [
  randomAllocator,
  leastLoadedAllocator,
  scopeAffinityAllocator,
];

export const defaultCacheAllocator = randomAllocator;

export function findCacheAllocator(name: string): CacheAllocator | undefined {
  return cacheAllocators.find((a) => a.name === name.trim().toLowerCase());
}
