// Template jobs that fail part-way: each undoes what it made and leaves truthful rows (the compensation paths).
// Faults are injected the way they happen in a cloud: a pool directory that is not there, a source object that
// vanished, a store whose host key or credentials changed.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKeyFile, labHostUser, sampleImages } from '../../lab/lab-layout';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, hostFingerprint, labHost, stack, unique } from '../support/stack';
import { recordHistory } from '../support/temporal';

let lab: LabInventory;
let sql: postgres.Sql;
const qcow2 = () => sampleImages().find((i) => i.format === 'QCOW2')!;

async function register(zoneid: string) {
  const body = await adminApi().call('registerTemplate', {
    name: unique('tmpl'),
    format: 'QCOW2',
    hypervisor: 'KVM',
    url: qcow2().url,
    zoneid,
  });
  const done = await adminApi().waitForJob(String(body.jobid));
  expect(done.jobstatus).toBe(1);
  return String(body.id);
}

async function job(command: string, params: Record<string, string>) {
  const started = await adminApi().call(command, params);
  const done = (await adminApi().waitForJob(String(started.jobid))) as {
    jobstatus: number;
    jobresult: { errortext?: string };
  };
  return { jobid: String(started.jobid), done };
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  sql = postgres(stack().databaseUrl, { max: 1 });
}, 120_000);

afterAll(async () => {
  await sql.end();
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('template compensation paths', () => {
  it('prepareTemplate into a pool directory that is not there: no file, the pool copy Failed with the reason', async () => {
    const api = adminApi();
    const cluster = (
      (
        await api.call('addCluster', {
          clustername: unique('ghost'),
          zoneid: lab.zoneA.id,
          podid: lab.pods.podA.id,
          hypervisor: 'KVM',
        })
      ).cluster as { id: string }[]
    )[0]!;
    const host = labHost('kvm-a2');
    const added = await api.call('addHost', {
      name: unique('kvm'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: `ssh://${host.address}:${host.port}`,
      username: labHostUser,
      hostkeyfingerprint: await hostFingerprint('kvm-a2'),
    });
    expect((await api.waitForJob(String(added.jobid))).jobstatus).toBe(1);
    const pool = (
      await api.call('createStoragePool', {
        name: unique('ghost'),
        zoneid: lab.zoneA.id,
        podid: lab.pods.podA.id,
        clusterid: cluster.id,
        url: `SharedMountPoint:///nonexistent/${unique('pool')}`,
      })
    ).storagepool as { id: string };
    const templateId = await register('-1');
    const { jobid, done } = await job('prepareTemplate', {
      templateid: templateId,
      zoneid: lab.zoneA.id,
      storageid: pool.id,
    });
    expect(done.jobstatus).toBe(2);
    expect(done.jobresult.errortext).toContain('curl failed on the host');
    const [ref] = await sql`select state, error_text from template_pool_refs where template_id = ${templateId}`;
    expect(ref).toMatchObject({ state: 'Failed' });
    expect(String(ref!.error_text)).toContain('curl');
    await recordHistory(jobid, 'prepareTemplate-failure');
  });

  it('copyTemplate whose source object vanished: the destination copy Failed, nothing written there', async () => {
    const templateId = await register(lab.zoneA.id);
    rmSync(join(lab.nfsDirs[0]!, 'template/tmpl/admin', templateId), {
      recursive: true,
    });
    const { jobid, done } = await job('copyTemplate', {
      id: templateId,
      sourcezoneid: lab.zoneA.id,
      destzoneid: lab.zoneB.id,
    });
    expect(done.jobstatus).toBe(2);
    expect(done.jobresult.errortext).toContain('is missing');
    const refs =
      await sql`select r.state, s.name from template_store_refs r join image_stores s on s.id = r.store_id where r.template_id = ${templateId}`;
    expect(refs).toContainEqual({ state: 'Failed', name: lab.stores.swiftB.name });
    await recordHistory(jobid, 'copyTemplate-failure');
  });

  it('deleteTemplate on a store whose host key changed: the copy stays Ready with the reason', async () => {
    const templateId = await register(lab.zoneA.id);
    const storeId = lab.stores.nfsA.id;
    const wrong = await fingerprintOfPublicKeyFile(hostKeyFile('kvm-a1'));
    await sql`update image_stores set settings = jsonb_set(settings, '{hostkeyfingerprint}', ${sql.json(wrong)}) where id = ${storeId}`;
    try {
      const { jobid, done } = await job('deleteTemplate', { id: templateId });
      expect(done.jobstatus).toBe(2);
      expect(done.jobresult.errortext).toContain('not the pinned');
      const [ref] = await sql`select state, error_text from template_store_refs where template_id = ${templateId}`;
      expect(ref).toMatchObject({ state: 'Ready' });
      await recordHistory(jobid, 'deleteTemplate-failure');
    } finally {
      const right = await fingerprintOfPublicKeyFile(hostKeyFile('ssvm-a'));
      await sql`update image_stores set settings = jsonb_set(settings, '{hostkeyfingerprint}', ${sql.json(right)}) where id = ${storeId}`;
    }
    expect((await job('deleteTemplate', { id: templateId })).done.jobstatus).toBe(1);
  });

  it('extractTemplate from a store that refuses Ferry: the job fails with the reason, nothing changes', async () => {
    const templateId = await register(lab.zoneB.id);
    const storeId = lab.stores.swiftB.id;
    await sql`update image_stores set settings = jsonb_set(settings, '{account}', '"nobody"') where id = ${storeId}`;
    try {
      const { jobid, done } = await job('extractTemplate', { id: templateId });
      expect(done.jobstatus).toBe(2);
      expect(done.jobresult.errortext).toContain('refused the credentials');
      await recordHistory(jobid, 'extractTemplate-failure');
    } finally {
      await sql`update image_stores set settings = jsonb_set(settings, '{account}', '"ferry"') where id = ${storeId}`;
    }
  });
});
