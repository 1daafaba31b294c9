// The unmodified Python CloudStack client `cs` (PyPI) against Ferry: signed calls and an async job polled to the end.
import { describe, expect, it } from 'vitest';
import { cs as csClient } from '../support/cs';
import { adminApi, hostFingerprint, labHost, makeCluster, unique } from '../support/stack';

async function cs(command: string, ...args: string[]): Promise<Record<string, unknown>> {
  const params = Object.fromEntries(args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  const result = await csClient(command, params);
  if (!result.ok) throw Object.assign(new Error(result.output), { stdout: result.output });
  return result.body;
}

describe('the cs client', () => {
  it('lists zones and hosts with signed requests', async () => {
    const { zone } = await makeCluster(adminApi(), 'KVM', 'primary-kvm-b');
    const zones = await cs('listZones', `name=${zone.name}`);
    expect(zones).toMatchObject({ count: 1, zone: [{ id: zone.id, name: zone.name }] });
    const hosts = await cs('listHosts', `zoneid=${zone.id}`);
    expect(hosts).toMatchObject({ count: 0 });
  });

  it('adds a host with an async addHost and polls it to completion', async () => {
    const { cluster } = await makeCluster(adminApi(), 'KVM', 'primary-kvm-b');
    const host = labHost('kvm-b1');
    const name = unique('cs-kvm');
    const result = await cs(
      'addHost',
      `name=${name}`,
      `clusterid=${cluster.id}`,
      'hypervisor=KVM',
      `url=ssh://${host.address}:${host.port}`,
      'username=root',
      `hostkeyfingerprint=${await hostFingerprint('kvm-b1')}`,
    );
    // cs polled queryAsyncJobResult and printed the job's result: the host, Up.
    expect(result).toMatchObject({ host: { name, state: 'Up', clusterid: cluster.id } });
    const hosts = await cs('listHosts', `name=${name}`);
    expect(hosts).toMatchObject({ count: 1, host: [{ state: 'Up' }] });
  });

  it('reports a failed job as an error', async () => {
    const { cluster } = await makeCluster(adminApi(), 'KVM', 'primary-kvm-b');
    const host = labHost('kvm-b1');
    const failure = await cs(
      'addHost',
      `name=${unique('cs-mitm')}`,
      `clusterid=${cluster.id}`,
      'hypervisor=KVM',
      `url=ssh://${host.address}:${host.port}`,
      'username=root',
      `hostkeyfingerprint=${await hostFingerprint('kvm-a1')}`,
    ).then(
      () => undefined,
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(failure).toContain('not the pinned');
  });
});
