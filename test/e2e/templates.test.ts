// Templates end to end with the `cs` client on the real lab: register (zone or region), list, copy, extract, prepare
// on KVM, XenServer and VMware pools, delete — and bad input that must leave nothing behind.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labImages, poolPath, sampleImages } from '../../lab/lab-layout';
import { cs, csJob } from '../support/cs';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { listenAsSource, testDownloadSites } from '../support/lab-sites';
import { labS3 } from '../support/lab-stores';
import { adminApi, unique } from '../support/stack';
import { recordHistory, temporalClient, jobPlans } from '../support/temporal';

type Template = { id: string; isready: boolean; status: string; zoneid?: string; crossZones: boolean } & Record<
  string,
  unknown
>;

let lab: LabInventory;
let htmlServer: Server;
let htmlUrl: string;
const qcow2 = () => sampleImages().find((i) => i.format === 'QCOW2')!;

async function ok(command: string, params: Record<string, string>) {
  const result = await cs(command, params);
  if (!result.ok) throw new Error(`${command} failed: ${result.output}`);
  return result.body;
}

/** An async command through cs, polled with cs to its end. */
async function job(command: string, params: Record<string, string>) {
  const { jobid, done } = await csJob(command, params);
  return { jobid, done };
}

async function register(params: Record<string, string>) {
  const { sha256, url } = qcow2();
  const { started, jobid, done } = await csJob('registerTemplate', {
    name: unique('tmpl'),
    format: 'QCOW2',
    hypervisor: 'KVM',
    url,
    checksum: `{SHA-256}${sha256}`,
    ...params,
  });
  const template = (started.template as Template[])[0]!;
  expect(template.isready).toBe(false);
  return { template, jobid, done };
}

const sha256Of = (path: string) =>
  createHash('sha256')
    .update(execFileSync('cat', [path]))
    .digest('hex');
const qemuInfo = (path: string) =>
  JSON.parse(execFileSync('qemu-img', ['info', '--output=json', path], { encoding: 'utf8' })) as {
    format: string;
    'virtual-size': number;
  };

async function downloadSha(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await res.arrayBuffer()))
    .digest('hex');
}

function s3() {
  const s = labS3();
  return new S3Client({
    endpoint: s.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s.accesskey, secretAccessKey: s.secretkey },
  });
}

async function s3Keys(prefix: string): Promise<{ objects: number; uploads: number }> {
  const client = s3();
  const objects = await client.send(new ListObjectsV2Command({ Bucket: lab.bucket, Prefix: prefix }));
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: lab.bucket, Prefix: prefix }));
  client.destroy();
  return { objects: objects.KeyCount ?? 0, uploads: uploads.Uploads?.length ?? 0 };
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  htmlServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><html><body><h1>Login required</h1></body></html>'.padEnd(70_000, ' '));
  });
  htmlUrl = `${await listenAsSource(htmlServer)}/disk.qcow2`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => htmlServer.close(() => resolve()));
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('a region-wide template on the S3 store', () => {
  let template: Template;

  it('registers once and is ready in both zones', async () => {
    const registered = await register({ zoneid: '-1' });
    expect(registered.done).toMatchObject({ jobstatus: 1 });
    template = registered.template;
    await recordHistory(registered.jobid, 'registerTemplate-success');
    // The Temporal UI's list names the run's object and route, not only ids.
    const run = await (await temporalClient()).workflow.getHandle(registered.jobid).describe();
    expect(await run.staticSummary()).toBe(
      `registerTemplate ${String(template.name)} → ${lab.stores.s3Region.name} (region)`,
    );
    expect(await run.staticDetails()).toContain('url-to-store');
    for (const zone of [lab.zoneA, lab.zoneB]) {
      const listed = await ok('listTemplates', { templatefilter: 'all', id: template.id, zoneid: zone.id });
      expect(listed).toMatchObject({
        count: 1,
        template: [{ isready: true, crossZones: true, status: 'Download Complete', sha256: qcow2().sha256 }],
      });
    }
    const keys = await s3Keys(`template/tmpl/admin/${template.id}/`);
    expect(keys).toEqual({ objects: 1, uploads: 0 });
  });

  it('copies to another zone at once, moving no byte', async () => {
    const copied = await ok('copyTemplate', { id: template.id, destzoneid: lab.zoneB.id });
    expect(copied).toMatchObject({ template: { id: template.id, crossZones: true } });
    expect(copied).not.toHaveProperty('jobid');
  });

  it('prepares on a KVM, a XenServer (through the cache store) and a VMware pool, in each format', async () => {
    const cases = [
      [lab.zoneA, lab.pools.kvmA, 'primary-kvm-a', 'qcow2', 'qcow2', 'store-to-pool-direct'],
      [lab.zoneA, lab.pools.xenA, 'primary-xen-a', 'vhd', 'vpc', 'store-to-pool-via-cache'],
      [lab.zoneB, lab.pools.vmwB, 'primary-vmw-b', 'vmdk', 'vmdk', 'store-to-pool-direct'],
    ] as const;
    for (const [zone, pool, dir, ext, format, strategy] of cases) {
      const explained = (await ok('explainDataMotion', { templateid: template.id, storageid: pool.id }))
        .datamotion as Record<string, unknown>;
      expect(explained.strategy).toBe(strategy);
      const { jobid, done } = await job('prepareTemplate', {
        templateid: template.id,
        zoneid: zone.id,
        storageid: pool.id,
      });
      expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
      const described = await (await temporalClient()).workflow.getHandle(jobid).describe();
      expect(described.memo).toMatchObject({ strategies: [strategy] });
      expect(await described.staticSummary()).toBe(`prepareTemplate ${String(template.name)} → ${pool.name}`);
      expect(await described.staticDetails()).toContain(`Strategy: ${strategy}`);
      const info = qemuInfo(join(poolPath(dir), `${template.id}.${ext}`));
      expect(info.format).toBe(format);
      expect(info['virtual-size']).toBe(16 * 1024 * 1024);
      if (ext === 'qcow2') await recordHistory(jobid, 'prepareTemplate-success');
    }
    // The staged copy stays on the cache store for later copies (unleased, so LRU may evict it) ...
    const staged = execFileSync('find', [lab.nfsDirs[1]!, '-type', 'f', '-name', `*${template.id}*`], {
      encoding: 'utf8',
    }).trim();
    expect(staged).toContain(`cache/template/${template.id}/`);
    // ... and the next copy to a XenServer pool reuses it instead of staging the template again.
    const { jobid, done } = await job('createVolume', {
      templateid: template.id,
      zoneid: lab.zoneA.id,
      storageid: lab.pools.xenA.id,
      name: unique('reuse'),
    });
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    const [plan] = await jobPlans(jobid);
    expect(plan!.strategy).toBe('store-to-pool-via-cache');
    const moves = plan!.steps.filter((s) => s.step !== 'transition' && s.step !== 'commit');
    expect(moves.map((s) => s.step)).toEqual(['reserve-cache', 'host-fetch-convert', 'release-cache']);
  });

  it('extracts a URL that downloads the same bytes', async () => {
    const { jobid, done } = await job('extractTemplate', { id: template.id, mode: 'HTTP_DOWNLOAD' });
    const url = (done.jobresult.template as { url: string }).url;
    expect(url).toContain('X-Amz-Signature');
    expect(await downloadSha(url)).toBe(qcow2().sha256);
    await recordHistory(jobid, 'extractTemplate-success');
  });

  it('refuses to delete it while prepared on pools (536), then deletes every copy when forced', async () => {
    const refused = await cs('deleteTemplate', { id: template.id });
    expect(refused.ok).toBe(false);
    expect(refused.body).toMatchObject({ errorcode: 536 });
    expect(existsSync(join(poolPath('primary-kvm-a'), `${template.id}.qcow2`))).toBe(true);
    const { jobid, done } = await job('deleteTemplate', { id: template.id, forced: 'true' });
    expect(done.jobstatus).toBe(1);
    await recordHistory(jobid, 'deleteTemplate-success');
    expect(await s3Keys(`template/tmpl/admin/${template.id}/`)).toEqual({ objects: 0, uploads: 0 });
    for (const [dir, ext] of [
      ['primary-kvm-a', 'qcow2'],
      ['primary-xen-a', 'vhd'],
      ['primary-vmw-b', 'vmdk'],
    ]) {
      expect(existsSync(join(poolPath(dir!), `${template.id}.${ext!}`))).toBe(false);
    }
    expect(await ok('listTemplates', { templatefilter: 'all', id: template.id })).toMatchObject({ count: 0 });
  });
});

describe('a zone template on the NFS store', () => {
  let template: Template;

  it('registers in zone A, on the NFS export', async () => {
    const registered = await register({ zoneid: lab.zoneA.id });
    expect(registered.done).toMatchObject({ jobstatus: 1 });
    template = registered.template;
    const file = join(lab.nfsDirs[0]!, 'template/tmpl/admin', template.id, `${template.id}.qcow2`);
    expect(sha256Of(file)).toBe(qcow2().sha256);
    expect(await ok('listTemplates', { templatefilter: 'all', id: template.id })).toMatchObject({
      count: 1,
      template: [{ zoneid: lab.zoneA.id, crossZones: false, isready: true }],
    });
  });

  it('copies to zone B (NFS → Swift, streamed) and extracts from each zone with the same bytes', async () => {
    const { jobid, done } = await job('copyTemplate', {
      id: template.id,
      sourcezoneid: lab.zoneA.id,
      destzoneid: lab.zoneB.id,
    });
    expect(done.jobstatus, JSON.stringify(done.jobresult)).toBe(1);
    await recordHistory(jobid, 'copyTemplate-success');
    const listed = (await ok('listTemplates', { templatefilter: 'all', id: template.id })).template as Template[];
    expect(listed.map((t) => [t.zoneid, t.isready]).sort()).toEqual(
      [
        [lab.zoneA.id, true],
        [lab.zoneB.id, true],
      ].sort(),
    );
    for (const zone of [lab.zoneA, lab.zoneB]) {
      const extracted = await job('extractTemplate', { id: template.id, zoneid: zone.id });
      expect(await downloadSha((extracted.done.jobresult.template as { url: string }).url)).toBe(qcow2().sha256);
    }
  });

  it("deletes one zone's copy, then the rest", async () => {
    expect((await job('deleteTemplate', { id: template.id, zoneid: lab.zoneB.id })).done.jobstatus).toBe(1);
    expect(await ok('listTemplates', { templatefilter: 'all', id: template.id })).toMatchObject({
      count: 1,
      template: [{ zoneid: lab.zoneA.id }],
    });
    expect((await job('deleteTemplate', { id: template.id })).done.jobstatus).toBe(1);
    expect(await ok('listTemplates', { templatefilter: 'all', id: template.id })).toMatchObject({ count: 0 });
  });
});

describe('a template on the Swift store', () => {
  it('registers in zone B on Swift, prepares on the VMware pool, extracts through a temp URL', async () => {
    const registered = await register({ zoneid: lab.zoneB.id });
    expect(registered.done).toMatchObject({ jobstatus: 1 });
    const id = registered.template.id;
    const listed = (await ok('listTemplates', { templatefilter: 'all', id })).template as Template[];
    expect(listed[0]!.downloaddetails).toEqual([
      expect.objectContaining({ datastore: lab.stores.swiftB.name, downloadState: 'Ready' }),
    ]);
    expect(
      (await job('prepareTemplate', { templateid: id, zoneid: lab.zoneB.id, storageid: lab.pools.vmwB.id })).done
        .jobstatus,
    ).toBe(1);
    expect(qemuInfo(join(poolPath('primary-vmw-b'), `${id}.vmdk`)).format).toBe('vmdk');
    const extracted = await job('extractTemplate', { id });
    const url = (extracted.done.jobresult.template as { url: string }).url;
    expect(url).toContain('temp_url_sig');
    expect(await downloadSha(url)).toBe(qcow2().sha256);
    expect((await job('deleteTemplate', { id, forced: 'true' })).done.jobstatus).toBe(1);
  });
});

describe('bad input', () => {
  it('fails a checksum mismatch and a page of HTML claimed as QCOW2 with the reason, leaving no object', async () => {
    const wrong = await register({ zoneid: '-1', checksum: `{SHA-256}${'0'.repeat(64)}` });
    expect(wrong.done).toMatchObject({ jobstatus: 2, jobresult: { errorcode: 431 } });
    expect(String((wrong.done.jobresult as { errortext: string }).errortext)).toContain('checksum mismatch');
    await recordHistory(wrong.jobid, 'registerTemplate-checksum-mismatch');
    const html = await register({ zoneid: '-1', url: htmlUrl, checksum: '' });
    expect(html.done).toMatchObject({ jobstatus: 2, jobresult: { errorcode: 431 } });
    expect(String((html.done.jobresult as { errortext: string }).errortext)).toMatch(
      /text \(an error page\?\), not the QCOW2/,
    );
    for (const t of [wrong.template, html.template]) {
      expect(await s3Keys(`template/tmpl/admin/${t.id}/`)).toEqual({ objects: 0, uploads: 0 });
      const listed = (await ok('listTemplates', { templatefilter: 'all', id: t.id })).template as Template[];
      expect(listed[0]).toMatchObject({ isready: false });
      expect(listed[0]!.status).toMatch(/^Failed: /);
    }
  });

  it('refuses bad URLs, unknown zones and forbidden targets before saving anything', async () => {
    const api = adminApi();
    const before = Number((await api.call('listTemplates', { templatefilter: 'all' })).count);
    const base = { name: unique('bad'), format: 'QCOW2', hypervisor: 'KVM', zoneid: '-1' };
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ url: `http://${labImages.address}:${labImages.port}/no-such-image.qcow2` }, 431, /cannot be fetched/],
      [{ url: 'file:///etc/passwd' }, 431, /file URLs are not fetched/],
      [{ url: 'ftp://127.0.0.1/a.qcow2' }, 431, /ftp URLs are not fetched/],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, 431, /is not allowed/],
      [{ url: 'http://10.0.0.1/a.qcow2' }, 431, /is not allowed/],
      [{ url: qcow2().url, zoneid: '00000000-0000-4000-8000-000000000000' }, 431, /Unable to find Zone/],
      [{ url: qcow2().url, zoneid: 'zone-a' }, 431, /zone UUID, or -1/],
      [{ url: qcow2().url, format: 'EXE' }, 431, /expected one of/],
      [{ url: qcow2().url, checksum: '{SHA-256}abc' }, 431, /checksum must be/],
    ];
    for (const [params, code, reason] of cases) {
      const reply = await api.request('registerTemplate', { ...base, ...params });
      expect(reply.status, JSON.stringify(params)).toBe(code);
      expect(String(reply.body.errortext)).toMatch(reason);
      // What an internal site answered (a 404 here) is never repeated.
      expect(String(reply.body.errortext)).not.toMatch(/answered|HTTP \d|\b404\b/);
    }
    // The lab's image server is internal: refused unless allowed, and the lab allows only its own address and port.
    await api.call('updateConfiguration', { name: 'secstorage.allowed.internal.download.sites', value: '' });
    try {
      const local = await api.request('registerTemplate', { ...base, url: qcow2().url });
      expect(local.status).toBe(431);
      expect(String(local.body.errortext)).toContain('secstorage.allowed.internal.download.sites');
    } finally {
      await api.call('updateConfiguration', {
        name: 'secstorage.allowed.internal.download.sites',
        value: testDownloadSites,
      });
    }
    expect(Number((await api.call('listTemplates', { templatefilter: 'all' })).count)).toBe(before);
  });
});
