// The URL policy end to end: Ferry never fetches its own services for a user (its API, Temporal, PostgreSQL, its S3
// and Swift stores, the lab's SeaweedFS filer and Temporal UI), whatever the allow-list says, refusing with 431 before
// anything is fetched or saved and without saying what is there; a store's endpoint must be allowed too; and the
// lab's sample images still register under the lab's own setting (its image server's address and port, nothing else).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapParams } from '../../api/client';
import { ferryHome, labDownloadSites, sampleImages } from '../../lab/lab-layout';
import { listenAsSource, testDownloadSites } from '../support/lab-sites';
import {
  createS3Bucket,
  createSwiftContainer,
  labS3,
  labS3Client,
  labSwift,
  removeS3Bucket,
  removeSwiftContainer,
} from '../support/lab-stores';
import { adminApi, stack, unique } from '../support/stack';

type Row = { id: string; name: string } & Record<string, unknown>;

const SITES = 'secstorage.allowed.internal.download.sites';
const STORES = 'secstorage.allowed.internal.store.endpoints';
const bucket = `policy-${randomUUID().slice(0, 8)}`;
const container = `policy-${randomUUID().slice(0, 8)}`;
let zone: Row;
let stores: Row[] = [];
let redirector: Server;
let redirectorUrl: string;

const api = () => adminApi();
const count = async (list: string, params: Record<string, string> = {}) =>
  Number((await api().call(list, params)).count ?? 0);

async function withSetting<T>(name: string, value: string, restore: string, run: () => Promise<T>): Promise<T> {
  await api().call('updateConfiguration', { name, value });
  try {
    return await run();
  } finally {
    await api().call('updateConfiguration', { name, value: restore });
  }
}

beforeAll(async () => {
  zone = (await api().call('createZone', { name: unique('zone-policy'), networktype: 'Advanced' })).zone as Row;
  await createS3Bucket(bucket);
  await createSwiftContainer(container);
  const s3 = labS3();
  const swift = labSwift();
  for (const params of [
    {
      provider: 'S3',
      ...mapParams('details', { endpoint: s3.endpoint, accesskey: s3.accesskey, secretkey: s3.secretkey, bucket }),
    },
    {
      provider: 'Swift',
      zoneid: zone.id,
      url: swift.url,
      ...mapParams('details', { account: swift.account, username: swift.username, key: swift.key, container }),
    },
  ]) {
    stores.push((await api().call('addImageStore', { name: unique('policy'), ...params })).imagestore as Row);
  }
  redirector = createServer((req, res) => {
    res.writeHead(302, { location: `http://127.0.0.1:8888/buckets/${bucket}/${req.url ?? ''}` }).end();
  });
  redirectorUrl = `${await listenAsSource(redirector)}/image.qcow2`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => redirector.close(() => resolve()));
  for (const store of stores) await api().call('updateImageStore', { id: store.id, readonly: true });
  stores = [];
  await removeS3Bucket(bucket);
  await removeSwiftContainer(container);
});

describe("Ferry's own services", () => {
  it('are refused with 431 before anything is fetched or saved, whatever the allow-list says', async () => {
    const marker = randomUUID().replace(/-/g, '');
    const database = new URL(stack().databaseUrl);
    const urls = [
      `http://127.0.0.1:8888/buckets/${bucket}/`, // the SeaweedFS filer: every tenant's objects
      `http://localhost:8888/buckets/${bucket}/`,
      `http://[::1]:8888/buckets/${bucket}/`,
      `http://127.1:8888/buckets/${bucket}/`,
      `${labS3().endpoint}/${bucket}/template.qcow2`, // the S3 API
      `${new URL(labSwift().url).origin}/ssrf-probe-${marker}`, // the Swift proxy
      `${stack().temporalUiUrl}/`, // the Temporal UI
      `http://${stack().temporalAddress}/`, // Temporal's frontend
      `${stack().apiUrl}?command=ssrfProbe${marker}`, // Ferry's own API
      `http://${database.hostname}:${database.port}/`, // PostgreSQL
      redirectorUrl, // a redirect into the filer
    ];
    const templatesBefore = await count('listTemplates', { templatefilter: 'all' });
    const volumesBefore = await count('listVolumes');
    // Every loopback address allowed: only the deny-list stands between a user and the services.
    await withSetting(SITES, '127.0.0.0/8, ::1', testDownloadSites, async () => {
      for (const url of urls) {
        const reply = await api().request('registerTemplate', {
          name: unique('ssrf'),
          format: 'QCOW2',
          hypervisor: 'KVM',
          zoneid: '-1',
          url,
        });
        expect(reply.status, url).toBe(431);
        const text = String(reply.body.errortext);
        expect(text, url).toBe(
          `${url} is not allowed: Ferry fetches public http(s) sites, never its own services, and internal ` +
            '(private, loopback or link-local) sites only where an administrator lists them with updateConfiguration ' +
            `name=${SITES} (host[:port] or CIDR[:port]).`,
        );
      }
      const upload = await api().request('uploadVolume', {
        name: unique('ssrf'),
        format: 'QCOW2',
        zoneid: zone.id,
        url: `http://127.0.0.1:8888/buckets/${bucket}/`,
      });
      expect(upload.status).toBe(431);
      expect(String(upload.body.errortext)).toContain('is not allowed');
    });
    expect(await count('listTemplates', { templatefilter: 'all' })).toBe(templatesBefore);
    expect(await count('listVolumes')).toBe(volumesBefore);
    // Two of the services keep an access log: neither saw the probe.
    expect(readFileSync(stack().logFile, 'utf8')).not.toContain(marker);
    expect(readFileSync(join(ferryHome, 'log', 'swift-proxy.log'), 'utf8')).not.toContain(marker);
  });

  it('are refused by the download itself: a source that passed the API check and then redirects to one', async () => {
    // Another tenant's image in the filer, a valid qcow2: fetched, it would register Ready (the SSRF of issue 11).
    const image = sampleImages().find((i) => i.format === 'QCOW2')!;
    const bytes = readFileSync(join(ferryHome, 'images', image.name));
    const s3 = labS3Client();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tenant.qcow2', Body: bytes }));
    s3.destroy();
    // The first GET (the API's check) gets the image; every later one (the job's download) a redirect to the filer.
    let gets = 0;
    const turncoat = createServer((_req, res) => {
      if (gets++ === 0) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
        res.end(bytes);
        return;
      }
      res.writeHead(302, { location: `http://127.0.0.1:8888/buckets/${bucket}/tenant.qcow2` }).end();
    });
    const url = `${await listenAsSource(turncoat)}/image.qcow2`;
    try {
      await withSetting(SITES, '127.0.0.0/8, ::1', testDownloadSites, async () => {
        const started = await api().call('registerTemplate', {
          name: unique('turncoat'),
          format: 'QCOW2',
          hypervisor: 'KVM',
          zoneid: '-1',
          url,
        });
        const job = await api().waitForJob(String(started.jobid));
        expect(job.jobstatus, JSON.stringify(job.jobresult)).toBe(2);
        expect(String((job.jobresult as { errortext?: string }).errortext)).toContain(
          'is not allowed: Ferry fetches public http(s) sites, never its own services',
        );
        const [t] = (await api().call('listTemplates', { templatefilter: 'all', id: String(started.id) }))
          .template as Row[];
        expect(t).toMatchObject({ isready: false });
      });
      expect(gets).toBeGreaterThanOrEqual(2);
    } finally {
      turncoat.closeAllConnections();
      await new Promise<void>((resolve) => turncoat.close(() => resolve()));
    }
  });

  it('are refused as store endpoints; internal store endpoints only where the setting allows them', async () => {
    const s3 = labS3();
    const s3Store = (endpoint: string) => ({
      provider: 'S3',
      name: unique('policy-bad'),
      ...mapParams('details', { endpoint, accesskey: s3.accesskey, secretkey: s3.secretkey, bucket }),
    });
    const before = await count('listImageStores');
    const lab = String(
      ((await api().call('listConfigurations', { name: STORES })).configuration as { value: string }[])[0]!.value,
    );
    await withSetting(STORES, '127.0.0.0/8', lab, async () => {
      for (const endpoint of [stack().apiUrl.replace('/client/api', ''), `http://${stack().temporalAddress}`]) {
        const reply = await api().request('addImageStore', s3Store(endpoint));
        expect(reply.status, endpoint).toBe(431);
        expect(String(reply.body.errortext)).toMatch(/is not allowed: a store is never one of Ferry's own services/);
      }
    });
    await withSetting(STORES, '', lab, async () => {
      const reply = await api().request('addImageStore', s3Store(s3.endpoint));
      expect(reply.status).toBe(431);
      expect(String(reply.body.errortext)).toContain(STORES);
    });
    expect(await count('listImageStores')).toBe(before);
  });
});

describe("the lab's sample images", () => {
  it("register under the lab's own setting, which allows the image server and nothing else", async () => {
    await withSetting(SITES, labDownloadSites, testDownloadSites, async () => {
      const image = sampleImages().find((i) => i.format === 'QCOW2')!;
      const body = await api().call('registerTemplate', {
        name: unique('sample'),
        format: 'QCOW2',
        hypervisor: 'KVM',
        zoneid: '-1',
        url: image.url,
        checksum: `{SHA-256}${image.sha256}`,
      });
      expect(await api().waitForJob(String(body.jobid))).toMatchObject({ jobstatus: 1 });
      const other = await api().request('registerTemplate', {
        name: unique('other-port'),
        format: 'QCOW2',
        hypervisor: 'KVM',
        zoneid: '-1',
        url: image.url.replace(/:\d+\//, ':8098/'),
      });
      expect(other.status).toBe(431);
    });
  });
});
