// The inventory commands through the API, on the real database.
import { describe, expect, it } from 'vitest';
import { adminApi, makeCluster, unique } from '../support/stack';

describe('inventory commands', () => {
  it('creates and lists zones, pods, clusters and storage pools with their filters', async () => {
    const api = adminApi();
    const { zone, pod, cluster, storagePool } = await makeCluster(api, 'kvm', 'primary-kvm-a');
    expect(cluster.hypervisortype).toBe('KVM');
    expect(storagePool).toMatchObject({ scope: 'CLUSTER', type: 'SharedMountPoint', clusterid: cluster.id });
    expect(String(storagePool.path)).toMatch(/\/pools\/primary-kvm-a$/);

    expect(await api.call('listZones', { id: zone.id })).toMatchObject({ count: 1, zone: [{ name: zone.name }] });
    expect(await api.call('listPods', { zoneid: zone.id })).toMatchObject({
      count: 1,
      pod: [{ id: pod.id, zonename: zone.name }],
    });
    expect(await api.call('listClusters', { podid: pod.id })).toMatchObject({
      count: 1,
      cluster: [{ id: cluster.id, podname: pod.name, zonename: zone.name }],
    });
    expect(await api.call('listStoragePools', { clusterid: cluster.id })).toMatchObject({
      count: 1,
      storagepool: [{ id: storagePool.id, clustername: cluster.name }],
    });
  });

  it('pages list results and reports the total count', async () => {
    const api = adminApi();
    const prefix = unique('paged');
    for (const i of [1, 2, 3]) await api.call('createZone', { name: `${prefix}-${i}`, networktype: 'Advanced' });
    const page2 = await api.call('listZones', { keyword: prefix, page: 2, pagesize: 2 });
    expect(page2.count).toBe(3);
    expect((page2.zone as { name: string }[]).map((z) => z.name)).toEqual([`${prefix}-3`]);
  });

  it('refuses duplicates, unknown parents and mismatched hypervisors with 431 and creates nothing', async () => {
    const api = adminApi();
    const { zone, pod } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const dup = await api.request('createZone', { name: zone.name, networktype: 'Advanced' });
    expect(dup.status).toBe(431);
    expect(String(dup.body.errortext)).toContain('already exists');

    const unknownZone = await api.request('createPod', {
      name: unique('pod'),
      zoneid: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownZone.status).toBe(431);
    expect(String(unknownZone.body.errortext)).toContain('Unable to find Zone');

    const name = unique('cluster');
    const badHv = await api.request('addCluster', {
      clustername: name,
      zoneid: zone.id,
      podid: pod.id,
      hypervisor: 'Hyper-V',
    });
    expect(badHv.status).toBe(431);
    expect((await api.call('listClusters', { name })).count).toBe(0);

    const badUrl = await api.request('createStoragePool', {
      name: unique('pool'),
      zoneid: zone.id,
      url: 'nfs://1.2.3.4/../etc',
    });
    expect(badUrl.status).toBe(431);
  });

  it('describes every command for CloudMonkey in listApis', async () => {
    const body = await adminApi().call('listApis');
    const apis = body.api as {
      name: string;
      isasync: boolean;
      description: string;
      params: Record<string, unknown>[];
    }[];
    expect(body.count).toBe(apis.length);
    const addHost = apis.find((a) => a.name === 'addHost')!;
    expect(addHost.isasync).toBe(true);
    expect(addHost.params).toContainEqual(
      expect.objectContaining({ name: 'hostkeyfingerprint', type: 'string', required: true }),
    );
    for (const api of apis) {
      expect(typeof api.description).toBe('string');
      for (const p of api.params) {
        expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'type', 'required', 'description']));
      }
    }
    expect(apis.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'listZones',
        'createZone',
        'listHosts',
        'addHost',
        'queryAsyncJobResult',
        'listAsyncJobs',
      ]),
    );
  });
});
