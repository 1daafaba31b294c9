// evictCache on the time-skipping test server with mocked activities: the settings decide whether and how old,
// leases expire before eviction, and a store that could not be evicted from fails the run after the others were done.
import { Context } from '@temporalio/activity';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it, vi } from 'vitest';
import type { CacheReplacementSettings, EvictedObject, EvictionResult } from '../../activities/cache-leases';
import { FailureType } from '../../core/failures';
import { evictCache } from '../../workflows/evict-cache';
import { failureOf, useWorkflowEnv } from '../support/workflow-env';

const env = useWorkflowEnv();

const settings = (extra: Partial<CacheReplacementSettings> = {}) =>
  vi.fn((): Promise<CacheReplacementSettings> =>
    Promise.resolve({ enabled: true, intervalSeconds: 300, lruIntervalSeconds: 3600, ...extra }),
  );

const old: EvictedObject = {
  storeId: 'cache-a',
  storeName: 'Cache A',
  key: 'template/tmpl/2/t1/t1.qcow2',
  objectType: 'template',
  objectId: 't1',
  size: 1024,
  reason: 'lru',
};

describe('evictCache workflow', () => {
  it('does nothing but read the settings when cache replacement is disabled', async () => {
    const readCacheReplacementSettings = settings({ enabled: false });
    // Nothing else is mocked: expiring leases or evicting would fail the test.
    const result = await env.run({ readCacheReplacementSettings }, ({ client, taskQueue }) =>
      client.workflow.execute(evictCache, { taskQueue, workflowId: 'evict-disabled', args: [{}] }),
    );
    expect(result).toEqual({ enabled: false, expiredLeases: 0, evicted: [] });
    expect(readCacheReplacementSettings).toHaveBeenCalledTimes(1);
  });

  it('expires dead leases, then evicts objects older than the LRU interval from the settings', async () => {
    const order: string[] = [];
    const readCacheReplacementSettings = settings();
    const expireCacheLeases = vi.fn(() => {
      order.push('expire');
      return Promise.resolve(2);
    });
    const evictCacheObjects = vi.fn(
      (_: { olderThanSeconds: number; maxBytesPerStore?: number }): Promise<EvictionResult> => {
        order.push('evict');
        return Promise.resolve({ evicted: [old], failed: [] });
      },
    );
    const result = await env.run(
      { readCacheReplacementSettings, expireCacheLeases, evictCacheObjects },
      ({ client, taskQueue }) =>
        client.workflow.execute(evictCache, { taskQueue, workflowId: 'evict-default', args: [{}] }),
    );
    expect(result).toEqual({ enabled: true, expiredLeases: 2, evicted: [old] });
    expect(order).toEqual(['expire', 'evict']);
    // No byte limit unless the run was given one.
    expect(evictCacheObjects.mock.calls).toStrictEqual([[{ olderThanSeconds: 3600 }]]);
  });

  it("passes a run's own age and byte limit to the eviction instead of the settings' interval", async () => {
    const evictCacheObjects = vi.fn(
      (_: { olderThanSeconds: number; maxBytesPerStore?: number }): Promise<EvictionResult> =>
        Promise.resolve({ evicted: [], failed: [] }),
    );
    await env.run(
      { readCacheReplacementSettings: settings(), expireCacheLeases: () => Promise.resolve(0), evictCacheObjects },
      ({ client, taskQueue }) =>
        client.workflow.execute(evictCache, {
          taskQueue,
          workflowId: 'evict-override',
          args: [{ olderThanSeconds: 60, maxBytesPerStore: 4096 }],
        }),
    );
    expect(evictCacheObjects.mock.calls).toStrictEqual([[{ olderThanSeconds: 60, maxBytesPerStore: 4096 }]]);
  });

  it('fails the run, naming each store it could not evict from and carrying what was done', async () => {
    const evictCacheObjects = vi.fn(
      (_: { olderThanSeconds: number; maxBytesPerStore?: number }): Promise<EvictionResult> =>
        Promise.resolve({
          evicted: [old],
          failed: [{ storeId: 'cache-b', storeName: 'Cache B', reason: 'connect ECONNREFUSED 127.0.0.1:2299' }],
        }),
    );
    await env.run(
      { readCacheReplacementSettings: settings(), expireCacheLeases: () => Promise.resolve(1), evictCacheObjects },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(evictCache, { taskQueue, workflowId: 'evict-failed', args: [{}] });
        const cause = await failureOf(handle.result());
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause).toMatchObject({
          message:
            'evicted 1 cache objects, but could not evict from 1 store(s): Cache B: connect ECONNREFUSED 127.0.0.1:2299',
          type: FailureType.StoreUnavailable,
          nonRetryable: true,
          details: [{ expiredLeases: 1, evicted: [old] }],
        });
      },
    );
    // The store's trouble is reported, not retried by running the eviction again.
    expect(evictCacheObjects).toHaveBeenCalledTimes(1);
  });

  it('tries an eviction that throws three times, then fails the run with its error', async () => {
    const evictCacheObjects = vi.fn(
      (_: { olderThanSeconds: number; maxBytesPerStore?: number }): Promise<EvictionResult> =>
        Promise.reject(new Error('catalogue unavailable')),
    );
    await env.run(
      { readCacheReplacementSettings: settings(), expireCacheLeases: () => Promise.resolve(0), evictCacheObjects },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(evictCache, { taskQueue, workflowId: 'evict-throws', args: [{}] });
        const cause = await failureOf(handle.result());
        expect(cause).toBeInstanceOf(ActivityFailure);
        expect((cause as ActivityFailure).cause).toMatchObject({ message: 'catalogue unavailable' });
      },
    );
    expect(evictCacheObjects).toHaveBeenCalledTimes(3);
  });

  it('ends cancelled when cancelled during the eviction (it has no compensation)', async () => {
    let evicting!: () => void;
    const evictionStarted = new Promise<void>((resolve) => (evicting = resolve));
    const evictCacheObjects = vi.fn((_: { olderThanSeconds: number }): Promise<EvictionResult> => {
      evicting();
      return Context.current().cancelled;
    });
    await env.run(
      { readCacheReplacementSettings: settings(), expireCacheLeases: () => Promise.resolve(0), evictCacheObjects },
      async ({ client, taskQueue }) => {
        const handle = await client.workflow.start(evictCache, { taskQueue, workflowId: 'evict-cancel', args: [{}] });
        await evictionStarted;
        await handle.cancel();
        expect(await failureOf(handle.result())).toBeInstanceOf(CancelledFailure);
        expect((await handle.describe()).status.name).toBe('CANCELLED');
      },
    );
    expect(evictCacheObjects).toHaveBeenCalledTimes(1);
  });
});
