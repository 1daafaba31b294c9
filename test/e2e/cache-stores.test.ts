// The cache (staging) framework end to end: staging stores at zone, pod and cluster scope through the API, the
// allocator setting steering chooseCacheStore, leases and cache objects on a real NFS store (the lab's storage VM),
// deletion refused while in use, and the evictCache workflow on the real Temporal server.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { WorkflowFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCacheLeaseActivities } from '../../activities/cache-leases';
import { chooseCacheStore, noCacheStoreMessage } from '../../planning/cache-placement';
import { createStoreAccess } from '../../activities/store-access';
import type { FerryApiClient } from '../../api/client';
import { openDb, type DbHandle } from '../../db/client';
import { cacheLeases, cacheObjects, imageStores } from '../../db/schema';
import { createSecretBox } from '../../db/secret-box';
import { hostKeyFile } from '../../lab/lab-layout';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import { loadConfig } from '../../temporal.config';
import { ensureEvictionSchedule, evictionScheduleId } from '../../workers/ferry-worker';
import type { EvictCacheResult } from '../../workflows/evict-cache';
import { cs, details } from '../support/cs';
import { testStoreServices } from '../support/lab-stores';
import { adminApi, labHost, makeCluster, stack, unique } from '../support/stack';
import { recordHistory, temporalClient } from '../support/temporal';

type Row = { id: string; name: string } & Record<string, unknown>;

let api: FerryApiClient;
let dbHandle: DbHandle;
let acts: ReturnType<typeof createCacheLeaseActivities>;
let withStore: ReturnType<typeof createStoreAccess>;
let inv: Awaited<ReturnType<typeof makeCluster>>;
let other: Awaited<ReturnType<typeof makeCluster>>;
const dirs: string[] = [];
const stores: Record<'zone' | 'pod' | 'cluster', Row> = {} as Record<'zone' | 'pod' | 'cluster', Row>;

/** A fresh export directory for one staging store (the storage VM sees this machine's files). */
async function exportDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cache-test-'));
  dirs.push(dir);
  return dir;
}

async function stagingParams(zoneId: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const ssvm = labHost('ssvm-a');
  return {
    name: unique('cache'),
    zoneid: zoneId,
    url: `nfs://${ssvm.address}${await exportDir()}`,
    ...details({
      sshurl: `ssh://${ssvm.address}:${ssvm.port}`,
      hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile('ssvm-a')),
    }),
    ...extra,
  };
}

async function createStaging(zoneId: string, extra: Record<string, string> = {}): Promise<Row> {
  return (await api.call('createSecondaryStagingStore', await stagingParams(zoneId, extra))).secondarystorage as Row;
}

const db = () => dbHandle.db;
const placement = (objectId = randomUUID()) => ({
  zoneId: inv.zone.id,
  podId: inv.pod.id,
  clusterId: inv.cluster.id,
  objectType: 'template',
  objectId,
});
const setAllocator = (value: string) => api.call('updateConfiguration', { name: 'storage.cache.allocator', value });

async function putFile(storeId: string, key: string, content = 'staged bytes'): Promise<void> {
  await withStore(storeId, (driver) => driver.put(key, Readable.from([Buffer.from(content)])));
}
const fileExists = async (storeId: string, key: string) =>
  (await withStore(storeId, (driver) => driver.head(key))) !== undefined;

async function objectState(storeId: string, key: string) {
  const rows = await db().select().from(cacheObjects).where(eq(cacheObjects.storeId, storeId));
  return rows.find((r) => r.key === key)?.state;
}

/** A Ready object on a store, its lease released (kept for reuse): what eviction may remove once old enough. */
async function stageReady(storeId: string, holder = unique('wf')) {
  const objectId = randomUUID();
  const key = `template/tmpl/2/${objectId}/${objectId}.qcow2`;
  const { leaseId } = await acts.reserveCacheSpace({
    storeId,
    holder,
    key,
    bytes: 12,
    objectType: 'template',
    objectId,
    ttlSeconds: 600,
  });
  await putFile(storeId, key);
  await acts.markCacheObjectReady({ storeId, key, size: 12 });
  return { objectId, key, leaseId };
}

beforeAll(async () => {
  api = adminApi();
  dbHandle = openDb(stack().databaseUrl, { max: 3 });
  withStore = createStoreAccess(db(), createSecretBox(loadConfig().masterKey), testStoreServices());
  acts = createCacheLeaseActivities({ db: db(), withStore });
  inv = await makeCluster(api, 'XenServer', 'primary-xen-a');
  other = await makeCluster(api, 'KVM', 'primary-kvm-b');
});

afterAll(async () => {
  await api?.call('updateConfiguration', { name: 'storage.cache.allocator' });
  await api?.call('updateConfiguration', { name: 'storage.cache.replacement.lru.interval' });
  await dbHandle?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('staging store scopes', () => {
  it('creates staging stores for a zone, a pod and a cluster and lists each with its scope', async () => {
    stores.zone = await createStaging(inv.zone.id);
    // One through the unmodified CloudStack client, as an operator would.
    const byCs = await cs(
      'createSecondaryStagingStore',
      await stagingParams(inv.zone.id, { scope: 'pod', podid: inv.pod.id }),
    );
    expect(byCs.ok, byCs.output).toBe(true);
    stores.pod = byCs.body.secondarystorage as Row;
    stores.cluster = await createStaging(inv.zone.id, { scope: 'cluster', clusterid: inv.cluster.id });
    expect(stores.pod).toMatchObject({ scope: 'POD', podid: inv.pod.id, podname: inv.pod.name });
    expect(stores.cluster).toMatchObject({ scope: 'CLUSTER', clusterid: inv.cluster.id, podid: inv.pod.id });

    const listed = await api.call('listSecondaryStagingStores', { zoneid: inv.zone.id });
    expect(listed.count).toBe(3);
    const byName = new Map((listed.imagestore as Row[]).map((s) => [s.name, s]));
    expect(byName.get(stores.zone.name)).toMatchObject({ scope: 'ZONE', zoneid: inv.zone.id, providername: 'NFS' });
    expect(byName.get(stores.zone.name)!.podid).toBeUndefined();
    expect(byName.get(stores.pod.name)).toMatchObject({ scope: 'POD', podid: inv.pod.id });
    expect(byName.get(stores.cluster.name)).toMatchObject({
      scope: 'CLUSTER',
      clusterid: inv.cluster.id,
      clustername: inv.cluster.name,
    });
    const csListed = await cs('listSecondaryStagingStores', { zoneid: inv.zone.id, name: stores.cluster.name });
    expect(csListed.body).toMatchObject({ count: 1, imagestore: [{ scope: 'CLUSTER', clusterid: inv.cluster.id }] });
    // Staging stores are not image stores.
    expect((await api.call('listImageStores', { zoneid: inv.zone.id })).count).toBe(0);
  });

  it('refuses a scope without its pod or cluster, or with one of another zone, with 431, saving nothing', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ scope: 'pod' }, 'needs podid'],
      [{ scope: 'cluster' }, 'needs clusterid'],
      [{ scope: 'pod', podid: other.pod.id }, `Pod ${other.pod.name} is not in zone ${inv.zone.name}`],
      [{ scope: 'cluster', clusterid: other.cluster.id }, `Cluster ${other.cluster.name} is not in zone`],
      [{ clusterid: other.cluster.id }, `Cluster ${other.cluster.name} is not in zone`],
      [{ scope: 'pod', podid: randomUUID() }, 'Unable to find Pod'],
      [{ scope: 'cluster', clusterid: inv.cluster.id, podid: other.pod.id }, 'leave podid out'],
      [{ scope: 'zone', podid: inv.pod.id }, 'takes no podid'],
      [{ scope: 'region' }, 'one of zone, pod, cluster'],
    ];
    for (const [extra, text] of cases) {
      const refused = await api.request('createSecondaryStagingStore', await stagingParams(inv.zone.id, extra));
      expect(refused.status, JSON.stringify(extra)).toBe(431);
      expect(String(refused.body.errortext), JSON.stringify(extra)).toContain(text);
    }
    expect((await api.call('listSecondaryStagingStores', { zoneid: inv.zone.id })).count).toBe(3);
  });
});

describe('cache allocator setting', () => {
  it('is listed with its default and refuses unknown policies', async () => {
    expect(await api.call('listConfigurations', { name: 'storage.cache.allocator' })).toMatchObject({
      count: 1,
      configuration: [{ value: 'random', defaultvalue: 'random' }],
    });
    const refused = await api.request('updateConfiguration', { name: 'storage.cache.allocator', value: 'roundrobin' });
    expect(refused.status).toBe(431);
    expect(String(refused.body.errortext)).toContain('random, leastloaded, scopeaffinity');
    for (const [name, value] of [
      ['storage.cache.replacement.enabled', 'yes'],
      ['storage.cache.replacement.interval', '0'],
      ['storage.cache.replacement.lru.interval', 'a month'],
    ]) {
      expect((await api.request('updateConfiguration', { name: name!, value: value! })).status, name).toBe(431);
    }
  });

  it('changes which store chooseCacheStore picks', async () => {
    const holder = unique('wf');
    const leases: string[] = [];
    try {
      await setAllocator('scopeaffinity');
      expect(await chooseCacheStore(db(), placement())).toMatchObject({
        storeId: stores.cluster.id,
        allocator: 'scopeaffinity',
      });

      // Load the cluster store with two leases and the pod store with one: least loaded is the zone store.
      for (const [store, n] of [
        [stores.cluster, 2],
        [stores.pod, 1],
      ] as const) {
        for (let i = 0; i < n; i++) {
          const objectId = randomUUID();
          const lease = await acts.reserveCacheSpace({
            storeId: store.id,
            holder,
            key: `template/tmpl/2/${objectId}/${objectId}.qcow2`,
            bytes: 1000,
            objectType: 'template',
            objectId,
            ttlSeconds: 600,
          });
          leases.push(lease.leaseId);
        }
      }
      await setAllocator('leastloaded');
      expect(await chooseCacheStore(db(), placement())).toMatchObject({
        storeId: stores.zone.id,
        allocator: 'leastloaded',
      });
      expect((await chooseCacheStore(db(), placement()))?.cachedKey).toBeUndefined();

      // Random prefers the store already holding the object Ready, and says under which key to reuse it.
      const staged = await stageReady(stores.pod.id);
      await acts.releaseCacheLease({ leaseId: staged.leaseId, keepObject: true });
      await setAllocator('random');
      for (let i = 0; i < 5; i++) {
        expect(await chooseCacheStore(db(), placement(staged.objectId))).toEqual({
          storeId: stores.pod.id,
          storeName: stores.pod.name,
          hostPath: expect.stringContaining('ferry-cache-test-') as string,
          cachedKey: staged.key,
          allocator: 'random',
        });
      }
      // Scope: a placement naming only the zone is served by the zone-wide store alone, whatever the policy.
      for (const policy of ['random', 'leastloaded', 'scopeaffinity']) {
        await setAllocator(policy);
        const zoneOnly = { zoneId: inv.zone.id, objectType: 'template', objectId: staged.objectId };
        expect((await chooseCacheStore(db(), zoneOnly))?.storeId, policy).toBe(stores.zone.id);
      }
    } finally {
      for (const leaseId of leases) await acts.releaseCacheLease({ leaseId, keepObject: false });
      await setAllocator('random');
    }
  });

  it('finds no store in a zone without one, and says what to do', async () => {
    const none = await chooseCacheStore(db(), { ...placement(), zoneId: other.zone.id });
    expect(none).toBeUndefined();
    const text = noCacheStoreMessage(other.zone.name);
    expect(text).toContain(`Zone ${other.zone.name} has no usable cache (staging) store`);
    expect(text).toContain('createSecondaryStagingStore');
  });
});

describe('cache leases', () => {
  it('reserves idempotently, renews, and lets an unrenewed lease expire', async () => {
    const objectId = randomUUID();
    const input = {
      storeId: stores.zone.id,
      holder: unique('wf'),
      key: `template/tmpl/2/${objectId}/${objectId}.qcow2`,
      bytes: 4096,
      objectType: 'template' as const,
      objectId,
      ttlSeconds: 1,
    };
    const first = await acts.reserveCacheSpace(input);
    const retry = await acts.reserveCacheSpace(input);
    expect(retry).toEqual(first);
    expect(first.objectState).toBe('Creating');
    expect(await db().select().from(cacheLeases).where(eq(cacheLeases.holder, input.holder))).toHaveLength(1);

    expect(await acts.renewCacheLease({ leaseId: first.leaseId, ttlSeconds: 1 })).toMatchObject({ renewed: true });
    await new Promise((r) => setTimeout(r, 1500));
    // Lapsed but not yet marked: too late to renew, eviction no longer spares it.
    expect(await acts.renewCacheLease({ leaseId: first.leaseId, ttlSeconds: 60 })).toEqual({ renewed: false });
    expect(await acts.expireCacheLeases()).toBeGreaterThanOrEqual(1);
    const [lease] = await db().select().from(cacheLeases).where(eq(cacheLeases.id, first.leaseId));
    expect(lease).toMatchObject({ state: 'Expired' });
    expect(lease!.released).toBeInstanceOf(Date);
    expect(await acts.renewCacheLease({ leaseId: first.leaseId, ttlSeconds: 60 })).toEqual({ renewed: false });
    expect(await acts.expireCacheLeases()).toBe(0);

    // The same holder coming back takes the same lease again.
    const again = await acts.reserveCacheSpace({ ...input, ttlSeconds: 600 });
    expect(again.leaseId).toBe(first.leaseId);
    await acts.releaseCacheLease({ leaseId: again.leaseId, keepObject: false });
    expect(await objectState(stores.zone.id, input.key)).toBe('Evicted');
  });

  it('shares a Ready object between holders and deletes it only when the last one releases it', async () => {
    const staged = await stageReady(stores.zone.id);
    const second = await acts.reserveCacheSpace({
      storeId: stores.zone.id,
      holder: unique('wf'),
      key: staged.key,
      bytes: 12,
      objectType: 'template',
      objectId: staged.objectId,
      ttlSeconds: 600,
    });
    expect(second.objectState).toBe('Ready');

    await acts.releaseCacheLease({ leaseId: staged.leaseId, keepObject: false });
    expect(await objectState(stores.zone.id, staged.key)).toBe('Ready');
    expect(await fileExists(stores.zone.id, staged.key)).toBe(true);

    await acts.releaseCacheLease({ leaseId: second.leaseId, keepObject: false });
    expect(await objectState(stores.zone.id, staged.key)).toBe('Evicted');
    expect(await fileExists(stores.zone.id, staged.key)).toBe(false);
    // Releasing twice is harmless.
    await acts.releaseCacheLease({ leaseId: second.leaseId, keepObject: false });
  });
});

describe('deleteSecondaryStagingStore', () => {
  it('is refused with 536 while a lease is active or files remain, and allowed once released', async () => {
    const store = await createStaging(inv.zone.id);
    const staged = await stageReady(store.id);

    const inUse = await api.request('deleteSecondaryStagingStore', { id: store.id });
    expect(inUse.status).toBe(536);
    expect(String(inUse.body.errortext)).toContain('in use by 1 active leases');

    // Released but kept: no lease, yet the Ready object still counts.
    await acts.releaseCacheLease({ leaseId: staged.leaseId, keepObject: true });
    const stillStaged = await api.request('deleteSecondaryStagingStore', { id: store.id });
    expect(stillStaged.status).toBe(536);
    expect(String(stillStaged.body.errortext)).toContain('in use by 0 active leases and holds 1 staged objects');

    // Evicted objects do not count; a file nobody recorded still keeps the store.
    const again = await acts.reserveCacheSpace({
      storeId: store.id,
      holder: unique('wf'),
      key: staged.key,
      bytes: 12,
      objectType: 'template',
      objectId: staged.objectId,
      ttlSeconds: 600,
    });
    await acts.releaseCacheLease({ leaseId: again.leaseId, keepObject: false });
    await putFile(store.id, 'stray/file.bin');
    const stray = await api.request('deleteSecondaryStagingStore', { id: store.id });
    expect(stray.status).toBe(536);
    expect(String(stray.body.errortext)).toContain('stray/file.bin');

    await withStore(store.id, (driver) => driver.delete('stray/file.bin'));
    expect(await api.call('deleteSecondaryStagingStore', { id: store.id })).toMatchObject({ success: true });
    expect((await api.call('listSecondaryStagingStores', { id: store.id })).count).toBe(0);
    // Its leases and objects went with it.
    expect(await db().select().from(cacheObjects).where(eq(cacheObjects.storeId, store.id))).toHaveLength(0);
  });
});

describe('evictCache workflow', () => {
  const runEviction = async (name: string) => {
    const client = await temporalClient();
    const workflowId = unique(`evict-cache-${name}`);
    const handle = await client.workflow.start('evictCache', {
      taskQueue: stack().taskQueue,
      workflowId,
      args: [{}],
    });
    return { workflowId, result: handle.result() as Promise<EvictCacheResult> };
  };

  it('expires dead leases and evicts old unused objects, keeping leased ones', async () => {
    const old = await stageReady(stores.zone.id);
    await acts.releaseCacheLease({ leaseId: old.leaseId, keepObject: true });
    const leased = await stageReady(stores.zone.id);
    // A holder that died mid-copy: its lease runs out and its partial object goes.
    const deadId = randomUUID();
    const deadKey = `template/tmpl/2/${deadId}/${deadId}.qcow2`;
    const dead = await acts.reserveCacheSpace({
      storeId: stores.cluster.id,
      holder: unique('wf-dead'),
      key: deadKey,
      bytes: 100,
      objectType: 'template',
      objectId: deadId,
      ttlSeconds: 1,
    });
    await putFile(stores.cluster.id, deadKey, 'partial');
    await api.call('updateConfiguration', { name: 'storage.cache.replacement.lru.interval', value: '1' });
    await new Promise((r) => setTimeout(r, 1500));

    const run = await runEviction('success');
    const result = await run.result;
    expect(result.enabled).toBe(true);
    expect(result.expiredLeases).toBeGreaterThanOrEqual(1);
    const evictedKeys = result.evicted.map((e) => e.key);
    expect(evictedKeys).toContain(old.key);
    expect(evictedKeys).not.toContain(leased.key);
    expect(result.evicted.find((e) => e.key === deadKey)).toMatchObject({
      reason: 'abandoned',
      storeId: stores.cluster.id,
    });
    expect(result.evicted.find((e) => e.key === old.key)).toMatchObject({ reason: 'lru', objectId: old.objectId });

    expect(await fileExists(stores.zone.id, old.key)).toBe(false);
    expect(await objectState(stores.zone.id, old.key)).toBe('Evicted');
    expect(await fileExists(stores.cluster.id, deadKey)).toBe(false);
    expect(await fileExists(stores.zone.id, leased.key)).toBe(true);
    expect(await objectState(stores.zone.id, leased.key)).toBe('Ready');
    const [deadLease] = await db().select().from(cacheLeases).where(eq(cacheLeases.id, dead.leaseId));
    expect(deadLease?.state).toBe('Expired');
    await recordHistory(run.workflowId, 'evictCache-success');
    await acts.releaseCacheLease({ leaseId: leased.leaseId, keepObject: false });
  });

  it('fails naming a store it cannot reach, leaving that store’s objects as they were', async () => {
    const store = await createStaging(inv.zone.id);
    const staged = await stageReady(store.id);
    await acts.releaseCacheLease({ leaseId: staged.leaseId, keepObject: true });
    const [row] = await db().select().from(imageStores).where(eq(imageStores.id, store.id));
    // The storage VM goes away: point the store's SSH endpoint at a port nothing listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await db()
      .update(imageStores)
      .set({ settings: { ...row!.settings, sshaddress: '127.0.0.1', sshport: String(port) } })
      .where(eq(imageStores.id, store.id));
    await new Promise((r) => setTimeout(r, 1500));
    try {
      const run = await runEviction('unreachable');
      const failure = await run.result.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause?.message).toContain(`could not evict from 1 store(s): ${store.name}`);
      expect(await objectState(store.id, staged.key)).toBe('Ready');
      await recordHistory(run.workflowId, 'evictCache-store-unreachable');

      // A holder releasing its partial copy there fails too, and the copy is still recorded as there.
      const partialId = randomUUID();
      const partial = await acts.reserveCacheSpace({
        storeId: store.id,
        holder: unique('wf'),
        key: `template/tmpl/2/${partialId}/${partialId}.qcow2`,
        bytes: 10,
        objectType: 'template',
        objectId: partialId,
        ttlSeconds: 600,
      });
      await expect(acts.releaseCacheLease({ leaseId: partial.leaseId, keepObject: false })).rejects.toThrow(
        'ECONNREFUSED',
      );
      expect(await objectState(store.id, `template/tmpl/2/${partialId}/${partialId}.qcow2`)).toBe('Creating');
    } finally {
      await db().update(imageStores).set({ settings: row!.settings }).where(eq(imageStores.id, store.id));
    }
    expect(await fileExists(store.id, staged.key)).toBe(true);
  });

  it('is scheduled by the worker on its task queue', async () => {
    const client = await temporalClient();
    const handle = client.schedule.getHandle(evictionScheduleId(stack().taskQueue));
    let description: Awaited<ReturnType<typeof handle.describe>> | undefined;
    for (let i = 0; i < 40 && !description; i++) {
      description = await handle.describe().catch(() => undefined);
      if (!description) await new Promise((r) => setTimeout(r, 500));
    }
    expect(description?.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'evictCache',
      taskQueue: stack().taskQueue,
    });
    expect(description?.spec.intervals?.[0]?.every).toBe(86_400_000);

    // Starting again is harmless, and takes a changed interval.
    const config = loadConfig();
    const ours = { ...config, temporal: { ...config.temporal, taskQueue: stack().taskQueue } };
    await api.call('updateConfiguration', { name: 'storage.cache.replacement.interval', value: '3600' });
    try {
      await ensureEvictionSchedule(ours, db());
      await ensureEvictionSchedule(ours, db());
    } finally {
      await api.call('updateConfiguration', { name: 'storage.cache.replacement.interval' });
    }
    const updated = await handle.describe();
    expect(updated.spec.intervals?.[0]?.every).toBe(3_600_000);
    expect(updated.action).toMatchObject({ workflowType: 'evictCache', taskQueue: stack().taskQueue });
    // This run's task queue ends with the run: its schedule must not outlive it.
    await handle.delete();
  });
});
