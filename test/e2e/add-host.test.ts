// addHost end to end: API → Temporal workflow → SSH to a real lab sshd with a pinned key → catalogue.
import { describe, expect, it } from 'vitest';
import { labHostUser } from '../../lab/lab-layout';
import type { FerryApiClient } from '../../api/client';
import { FerryObjectId } from '../../core/search-attributes';
import { adminApi, hostFingerprint, labHost, makeCluster, stack, unique } from '../support/stack';
import { recordHistory, temporalClient } from '../support/temporal';

interface JobResult {
  jobstatus: number;
  jobresultcode: number;
  jobresult: { errorcode?: number; errortext?: string; host?: Record<string, unknown> };
}

async function addHost(api: FerryApiClient, params: Record<string, string>) {
  const body = await api.call('addHost', { username: labHostUser, ...params });
  expect(body).toHaveProperty('jobid');
  expect(body).toHaveProperty('id');
  const job = (await api.waitForJob(String(body.jobid))) as unknown as JobResult;
  const hosts = (await api.call('listHosts', { id: String(body.id) })).host as Record<string, unknown>[];
  return { jobid: String(body.jobid), hostId: String(body.id), job, host: hosts[0] };
}

const sshUrl = (name: string) => `ssh://${labHost(name).address}:${labHost(name).port}`;

describe('addHost', () => {
  it('connects with the pinned host key, probes the host and its pool, and marks it Up', async () => {
    const api = adminApi();
    const { cluster, storagePool } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const name = unique('kvm');
    const { jobid, hostId, job, host } = await addHost(api, {
      name,
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('kvm-a1'),
      hostkeyfingerprint: await hostFingerprint('kvm-a1'),
    });
    expect(job).toMatchObject({ jobstatus: 1, jobresultcode: 0, jobresult: { host: { id: hostId, state: 'Up' } } });
    expect(host).toMatchObject({ name, state: 'Up', hypervisor: 'KVM', clusterid: cluster.id });
    expect(String(host?.qemuimgversion)).toMatch(/^qemu-img version \d+\.\d+/);

    const pools = (await api.call('listStoragePools', { id: storagePool.id })).storagepool as Record<string, number>[];
    expect(pools[0]!.disksizetotal).toBeGreaterThan(0);
    expect(pools[0]!.disksizeused).toBeGreaterThanOrEqual(0);

    const jobs = (await api.call('listAsyncJobs')).asyncjobs as { jobid: string; cmd: string; jobstatus: number }[];
    expect(jobs).toContainEqual(expect.objectContaining({ jobid, cmd: 'addHost', jobstatus: 1 }));

    // The run is visible in Temporal under the job id, with Ferry's search attributes and a memo without secrets.
    const described = await (await temporalClient()).workflow.getHandle(jobid).describe();
    expect(described.type).toBe('addHost');
    expect(described.typedSearchAttributes.get(FerryObjectId)).toBe(hostId);
    expect(described.memo).toMatchObject({ request: { name, hypervisor: 'KVM' } });
    expect(await described.staticSummary()).toMatch(new RegExp(`^addHost ${name} \\(KVM, [\\d.]+:\\d+\\) → cluster `));
    await recordHistory(jobid, 'addHost-success');
  });

  it('refuses a host whose key does not match the pinned fingerprint: host not Up, reason given', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const { jobid, job, host } = await addHost(api, {
      name: unique('mitm'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('kvm-a1'),
      hostkeyfingerprint: await hostFingerprint('kvm-a2'),
    });
    expect(job.jobstatus).toBe(2);
    expect(job.jobresult.errorcode).toBe(534);
    expect(job.jobresult.errortext).toContain('not the pinned');
    expect(host).toMatchObject({ state: 'Error' });
    expect(String(host?.lasterror)).toContain('host key');
    await recordHistory(jobid, 'addHost-hostkey-mismatch');
  });

  it('refuses a host without qemu-img tools, naming what to install', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const { job, host } = await addHost(api, {
      name: unique('bare'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('bare-1'),
      hostkeyfingerprint: await hostFingerprint('bare-1'),
    });
    expect(job).toMatchObject({ jobstatus: 2, jobresult: { errorcode: 534 } });
    expect(job.jobresult.errortext).toMatch(/no qemu-img on its PATH.*install qemu-utils/);
    expect(host?.state).toBe('Error');
  });

  it("refuses a host that cannot see its cluster's primary pool", async () => {
    const api = adminApi();
    const { zone, pod, cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    await api.call('createStoragePool', {
      name: unique('ghost'),
      zoneid: zone.id,
      podid: pod.id,
      clusterid: cluster.id,
      url: `SharedMountPoint:///nonexistent/${unique('pool')}`,
    });
    const { job, host } = await addHost(api, {
      name: unique('kvm'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('kvm-a1'),
      hostkeyfingerprint: await hostFingerprint('kvm-a1'),
    });
    expect(job.jobstatus).toBe(2);
    expect(job.jobresult.errortext).toContain('cannot see primary storage pool');
    expect(host?.state).toBe('Error');
  });

  it('retries an unreachable host, then reports it', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const { jobid, job, host } = await addHost(api, {
      name: unique('gone'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: 'ssh://127.0.10.99:2222',
      hostkeyfingerprint: await hostFingerprint('kvm-a1'),
    });
    expect(job.jobstatus).toBe(2);
    expect(job.jobresult.errorcode).toBe(534);
    expect(job.jobresult.errortext).toContain('cannot reach 127.0.10.99:2222');
    expect(host?.state).toBe('Error');
    const history = await (await temporalClient()).workflow.getHandle(jobid).fetchHistory();
    // Temporal records the last attempt of a retried activity.
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    expect(Math.max(...attempts)).toBe(stack().connectAttempts);
    await recordHistory(jobid, 'addHost-unreachable');
  });

  it('keeps a password secret: sealed in the database, never in a response or the memo', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const password = `pw-${unique('secret')}`;
    const { jobid, job, host } = await addHost(api, {
      name: unique('pw'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('kvm-a1'),
      hostkeyfingerprint: await hostFingerprint('kvm-a1'),
      password,
    });
    // The lab hosts accept keys only: the refusal is final, not retried.
    expect(job).toMatchObject({ jobstatus: 2, jobresult: { errorcode: 534 } });
    expect(job.jobresult.errortext).toContain('was refused');
    expect(JSON.stringify([job, host, await api.call('listHosts')])).not.toContain(password);
    const described = await (await temporalClient()).workflow.getHandle(jobid).describe();
    expect(JSON.stringify(described.memo)).not.toContain(password);
    const history = await (await temporalClient()).workflow.getHandle(jobid).fetchHistory();
    expect(JSON.stringify(history)).not.toContain(password);
  });

  it('refuses bad input with 431 before anything is created', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const good = {
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: sshUrl('kvm-a1'),
      username: labHostUser,
      hostkeyfingerprint: await hostFingerprint('kvm-a1'),
    };
    const cases: Record<string, string>[] = [
      { hostkeyfingerprint: 'MD5:aa:bb' },
      { url: 'http://127.0.10.1:2222' },
      { url: 'ssh://' },
      { hypervisor: 'XenServer' },
      { hypervisor: 'Hyper-V' },
      { clusterid: '00000000-0000-4000-8000-000000000000' },
    ];
    for (const bad of cases) {
      const reply = await api.request('addHost', { ...good, ...bad, name: unique('bad') });
      expect(reply.status, JSON.stringify(bad)).toBe(431);
      expect(String(reply.body.errortext).length).toBeGreaterThan(10);
    }
    expect((await api.call('listHosts', { clusterid: cluster.id })).count).toBe(0);
  });
});
