// storage.cache.allocator is validated in core/ from a plain list (core may not import plugins): that list must
// name exactly the policies the registry can run, or a value would be accepted and then silently fall back.
import { describe, expect, it } from 'vitest';
import { cacheAllocatorChoices } from '../../core/cache-allocator-names';
import { findSetting } from '../../core/settings';
import { cacheAllocators } from '../../plugins/cache-allocators/registry';

describe('storage.cache.allocator', () => {
  const setting = findSetting('storage.cache.allocator')!;

  it('lists the same policies as the registry, with their descriptions', () => {
    expect(cacheAllocatorChoices).toEqual(cacheAllocators.map((a) => ({ name: a.name, description: a.description })));
  });

  it('accepts each registered policy and refuses any other name', () => {
    for (const allocator of cacheAllocators) {
      expect(setting.problem(allocator.name)).toBeUndefined();
      expect(setting.description).toContain(`${allocator.name} (${allocator.description})`);
    }
    expect(setting.problem('roundrobin')).toBe('one of random, leastloaded, scopeaffinity');
  });
});
