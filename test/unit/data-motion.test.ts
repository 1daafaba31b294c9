import { describe, expect, it } from 'vitest';
import { Priority, type DataMotionStrategy, type MotionRequest } from '../../plugins/motion/contract';
import { chooseMotion, motionStrategies } from '../../plugins/motion/registry';

const store = (storeId: string, extra: object = {}) => ({
  kind: 'image-store' as const,
  storeId,
  storeName: storeId,
  key: 'template/tmpl/2/t1/t1.qcow2',
  serverSideCopy: true,
  hostUploads: true,
  ...extra,
});
const pool = (hostPullsUrls: boolean) => ({
  kind: 'primary-pool' as const,
  poolId: 'p',
  poolName: 'p',
  clusterId: 'c1',
  zoneId: 'z1',
  path: '/pools/p',
  fileName: 't1.qcow2',
  hostId: 'h',
  targetFormat: 'QCOW2' as const,
  hostPullsUrls,
});
const request = (
  from: MotionRequest['from'],
  to: MotionRequest['to'],
  extra: Partial<MotionRequest> = {},
): MotionRequest => ({
  objectType: 'template',
  objectId: 't1',
  format: 'QCOW2',
  from,
  to,
  ...extra,
});

describe('data-motion strategy choice', () => {
  it('downloads URLs into stores', () => {
    const choice = chooseMotion(request({ kind: 'url', url: 'http://x/a' }, store('s3')));
    expect(choice.plan).toMatchObject({ strategy: 'url-to-store', steps: [{ step: 'download', storeId: 's3' }] });
    expect(choice.ratings).toHaveLength(motionStrategies.length);
  });

  it('prefers a server-side copy within one store over streaming', () => {
    const within = chooseMotion(request(store('a'), store('a', { key: 'other' })));
    expect(within.plan?.strategy).toBe('store-server-side-copy');
    expect(within.ratings).toContainEqual({ strategy: 'store-stream-copy', priority: 'DEFAULT' });
    expect(chooseMotion(request(store('a'), store('b'))).plan?.strategy).toBe('store-stream-copy');
  });

  it('lets a host that pulls URLs prepare directly, and others go through the cache', () => {
    const cache = { storeId: 'c', storeName: 'cache-a', hostPath: '/exports/cache-a' };
    const kvm = chooseMotion(request(store('s3', { serverSideCopy: false }), pool(true), { cache }));
    expect(kvm.plan).toMatchObject({
      strategy: 'store-to-pool-direct',
      steps: [{ step: 'host-fetch-convert', source: { storeId: 's3' } }],
    });
    const xen = chooseMotion(request(store('s3'), pool(false), { cache }));
    expect(xen.plan?.strategy).toBe('store-to-pool-via-cache');
    expect(xen.plan?.steps.map((s) => s.step)).toEqual([
      'reserve-cache',
      'stream-between-stores',
      'host-fetch-convert',
      'release-cache',
    ]);
    // A template staged on the cache is kept there for the next copy (LRU evicts it later).
    expect(xen.plan?.steps.at(-1)).toMatchObject({ step: 'release-cache', keepObject: true });
    expect(chooseMotion(request(store('s3'), pool(false))).plan).toBeUndefined();
  });

  it('reuses a template already staged on the cache store instead of staging it again', () => {
    const cache = {
      storeId: 'c',
      storeName: 'cache-a',
      hostPath: '/exports/cache-a',
      cachedKey: 'cache/template/t1/x',
    };
    const xen = chooseMotion(request(store('s3'), pool(false), { cache }));
    expect(xen.plan?.steps.map((s) => s.step)).toEqual(['reserve-cache', 'host-fetch-convert', 'release-cache']);
    expect(xen.plan?.steps[1]).toMatchObject({ source: { path: '/exports/cache-a/cache/template/t1/x' } });
  });

  it('backs a pool up to a store: the host uploads itself where it can, else through a leased cache', () => {
    const cache = { storeId: 'c', storeName: 'cache-a', hostPath: '/exports/cache-a' };
    const snapshot = { objectType: 'snapshot' as const, objectId: 's1', size: 1000, cache };
    const source = (pulls: boolean) => ({ ...pool(pulls), fileName: '.snapshot-s1.qcow2' });
    const kvm = chooseMotion(request(source(true), store('s3'), snapshot));
    expect(kvm.plan).toMatchObject({
      strategy: 'pool-to-store-direct',
      steps: [{ step: 'host-push', path: '/pools/p/.snapshot-s1.qcow2', storeId: 's3' }],
    });
    const toNfs = chooseMotion(
      request(source(false), store('nfs', { hostPath: '/exports/nfs-a', hostUploads: false }), snapshot),
    );
    expect(toNfs.plan?.steps[0]).toMatchObject({ step: 'host-copy-to-path', into: { storeId: 'nfs' } });
    const xen = chooseMotion(request(source(false), store('s3'), snapshot));
    expect(xen.plan?.strategy).toBe('pool-to-store-via-cache');
    expect(xen.plan?.steps).toMatchObject([
      { step: 'reserve-cache', storeId: 'c', bytes: 1000, key: 'cache/snapshot/s1/snapshot-s1.qcow2' },
      { step: 'host-copy-to-path', toPath: '/exports/cache-a/cache/snapshot/s1/snapshot-s1.qcow2' },
      { step: 'stream-between-stores', fromStoreId: 'c', toStoreId: 's3' },
      { step: 'release-cache', keepObject: false },
    ]);
    expect(chooseMotion(request(source(false), store('s3'), { ...snapshot, cache: undefined })).plan).toBeUndefined();
  });

  it('reads a mounted NFS store directly even when the hypervisor cannot pull URLs', () => {
    const nfs = chooseMotion(request(store('nfs', { hostPath: '/exports/nfs-a' }), pool(false)));
    expect(nfs.plan?.steps[0]).toMatchObject({ source: { path: '/exports/nfs-a/template/tmpl/2/t1/t1.qcow2' } });
  });

  it('moves a volume between pools: one host if it sees both, else through a cache store, else a region store', () => {
    const volume = { objectType: 'volume' as const, objectId: 'v1', size: 500 };
    const at = (poolId: string, clusterId: string, zoneId: string, pulls = true) => ({
      ...pool(pulls),
      poolId,
      clusterId,
      zoneId,
      path: `/pools/${poolId}`,
      fileName: 'v1.qcow2',
    });
    const cache = { storeId: 'c', storeName: 'cache-a', hostPath: '/exports/cache-a' };
    const transit = { ...store('s3'), key: 'transit/volume/v1/v1' };

    const sameCluster = chooseMotion(request(at('a', 'k1', 'z1'), at('b', 'k1', 'z1'), { ...volume, cache }));
    expect(sameCluster.plan).toMatchObject({
      strategy: 'hypervisor-storage-motion',
      steps: [
        { step: 'host-fetch-convert', source: { path: '/pools/a/v1.qcow2' }, poolPath: '/pools/b', verify: true },
      ],
    });

    const otherCluster = chooseMotion(request(at('a', 'k1', 'z1'), at('x', 'k2', 'z1', false), { ...volume, cache }));
    expect(otherCluster.plan?.strategy).toBe('pool-to-pool-via-cache');
    expect(otherCluster.plan?.steps.map((s) => s.step)).toEqual([
      'reserve-cache',
      'host-copy-to-path',
      'host-fetch-convert',
      'release-cache',
    ]);
    // Live, only a host that sees both pools can move it.
    const live = chooseMotion(request(at('a', 'k1', 'z1'), at('x', 'k2', 'z1'), { ...volume, cache, live: true }));
    expect(live.plan).toBeUndefined();

    const otherZone = chooseMotion(request(at('a', 'k1', 'z1'), at('y', 'k3', 'z2'), { ...volume, transit }));
    expect(otherZone.plan?.strategy).toBe('pool-to-pool-via-store');
    expect(otherZone.plan?.steps).toMatchObject([
      { step: 'host-push', storeId: 's3', key: 'transit/volume/v1/v1' },
      { step: 'host-fetch-convert', source: { storeId: 's3' }, verify: true },
      { step: 'remove-store-object', storeId: 's3' },
    ]);
    // A XenServer destination cannot fetch from S3 itself: no route between zones.
    expect(chooseMotion(request(at('a', 'k1', 'z1'), at('y', 'k3', 'z2', false), { ...volume, transit })).plan).toBe(
      undefined,
    );
  });

  it('lets a plugin win with a higher priority, and the first registered win ties', () => {
    const plugin: DataMotionStrategy = {
      name: 'vendor-appliance',
      description: 'a vendor box that moves bytes itself',
      rate: () => Priority.HIGHEST,
      plan: () => [],
    };
    const twin: DataMotionStrategy = { ...plugin, name: 'twin' };
    expect(chooseMotion(request(store('a'), store('b')), [...motionStrategies, plugin, twin]).plan?.strategy).toBe(
      'vendor-appliance',
    );
  });
});
