// Seeds the demo inventory of SPEC §3 through Ferry's own API (idempotent: existing names are kept),
// then writes .ferry/lab.json. Run by `./ferry up` once the API answers.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryApiClient, mapParams, type ApiKeys } from '../api/client';
import { ensureS3Bucket, ensureSwiftContainer } from './object-stores';
import { fingerprintOfPublicKeyFile } from '../ssh/known-host';
import { loadConfig } from '../temporal.config';
import {
  ferryHome,
  hostKeyFile,
  labDownloadSites,
  labHosts,
  labHostUser,
  labImages,
  labStoreEndpoints,
  poolPath,
  sampleImages,
} from './lab-layout';

const config = loadConfig();
const keys = JSON.parse(await readFile(config.admin.file, 'utf8')) as ApiKeys;
const apiUrl = `http://127.0.0.1:${config.api.port}/client/api`;
const api = new FerryApiClient(apiUrl, keys);

type Row = Record<string, unknown> & { id: string; name: string; state?: string };

async function findByName(list: string, objectName: string, name: string): Promise<Row | undefined> {
  const body = await api.call(list, { name });
  return (body[objectName] as Row[] | undefined)?.[0];
}

async function ensure(list: string, objectName: string, name: string, create: () => Promise<Row>): Promise<Row> {
  return (await findByName(list, objectName, name)) ?? (await create());
}

const hosts = labHosts().filter((h) => h.hypervisor !== '-');
const zones = new Map<string, Row>();
const pods = new Map<string, Row>();
const clusters = new Map<string, Row>();

for (const h of hosts) {
  if (!zones.has(h.zone)) {
    zones.set(
      h.zone,
      await ensure(
        'listZones',
        'zone',
        h.zone,
        async () => (await api.call('createZone', { name: h.zone, networktype: 'Advanced' })).zone as Row,
      ),
    );
  }
  const zone = zones.get(h.zone)!;
  if (!pods.has(h.pod)) {
    pods.set(
      h.pod,
      await ensure(
        'listPods',
        'pod',
        h.pod,
        async () => (await api.call('createPod', { name: h.pod, zoneid: zone.id })).pod as Row,
      ),
    );
  }
  const pod = pods.get(h.pod)!;
  if (!clusters.has(h.cluster)) {
    const cluster = await ensure('listClusters', 'cluster', h.cluster, async () => {
      const body = await api.call('addCluster', {
        clustername: h.cluster,
        zoneid: zone.id,
        podid: pod.id,
        hypervisor: h.hypervisor,
      });
      return (body.cluster as Row[])[0]!;
    });
    clusters.set(h.cluster, cluster);
    await ensure('listStoragePools', 'storagepool', h.pool, async () => {
      const body = await api.call('createStoragePool', {
        name: h.pool,
        zoneid: zone.id,
        podid: pod.id,
        clusterid: cluster.id,
        scope: 'cluster',
        url: `SharedMountPoint://${poolPath(h.pool)}`,
      });
      return body.storagepool as Row;
    });
  }
}

const jobs: { name: string; jobid: string }[] = [];
for (const h of hosts) {
  const existing = await findByName('listHosts', 'host', h.name);
  if (existing?.state === 'Up') continue;
  // A host left in Error (say the lab moved) is re-added, so a second `up` heals the demo.
  if (existing) await api.call('deleteHost', { id: existing.id, forced: true });
  const body = await api.call('addHost', {
    name: h.name,
    clusterid: clusters.get(h.cluster)!.id,
    hypervisor: h.hypervisor,
    url: `ssh://${h.address}:${h.port}`,
    username: labHostUser,
    hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(h.name)),
  });
  jobs.push({ name: h.name, jobid: String(body.jobid) });
}
for (const job of jobs) {
  const result = await api.waitForJob(job.jobid);
  if (result.jobstatus !== 1) {
    const why = (result.jobresult as { errortext?: string } | undefined)?.errortext;
    throw new Error(`adding host ${job.name} failed: ${why}`);
  }
}

// Image stores (SPEC §3): the lab provisions the bucket and container, then Ferry checks and adds the stores. Its S3
// and Swift are on loopback, which a store's endpoint may be only where the operator allows it: exactly those two.
await api.call('updateConfiguration', {
  name: 'secstorage.allowed.internal.store.endpoints',
  value: labStoreEndpoints,
});
const env = (name: string) => process.env[name] ?? '';
const s3Endpoint = `http://127.0.0.1:${process.env.FERRY_S3_PORT ?? 8333}`;
const swiftAuthUrl = `http://127.0.0.1:${process.env.FERRY_SWIFT_PORT ?? 8090}/auth/v1.0`;
await ensureS3Bucket(s3Endpoint, env('FERRY_S3_ACCESS_KEY'), env('FERRY_S3_SECRET_KEY'), 'ferry-region');
await ensureSwiftContainer(swiftAuthUrl, 'ferry:ferry', env('FERRY_SWIFT_KEY'), 'ferry-b');
const ssvm = labHosts().find((h) => h.name === 'ssvm-a')!;
const detailsOf = (map: Record<string, string>) => mapParams('details', map);
const stores: Record<string, Record<string, string>> = {
  's3-region': {
    provider: 'S3',
    ...detailsOf({
      endpoint: s3Endpoint,
      accesskey: env('FERRY_S3_ACCESS_KEY'),
      secretkey: env('FERRY_S3_SECRET_KEY'),
      bucket: 'ferry-region',
    }),
  },
  'nfs-a': {
    provider: 'NFS',
    zoneid: zones.get('zone-a')!.id,
    url: `nfs://${ssvm.address}${join(ferryHome, 'exports/nfs-a')}`,
    ...detailsOf({
      sshurl: `ssh://${ssvm.address}:${ssvm.port}`,
      hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile('ssvm-a')),
    }),
  },
  'swift-b': {
    provider: 'Swift',
    zoneid: zones.get('zone-b')!.id,
    url: swiftAuthUrl,
    ...detailsOf({ account: 'ferry', username: 'ferry', key: env('FERRY_SWIFT_KEY'), container: 'ferry-b' }),
  },
};
for (const [name, params] of Object.entries(stores)) {
  await ensure(
    'listImageStores',
    'imagestore',
    name,
    async () => (await api.call('addImageStore', { name, ...params })).imagestore as Row,
  );
}

// Cache (staging) stores, one per zone: NFS exports the zone's hosts mount, reached through the zone's storage VM.
for (const [name, zone, vm] of [
  ['cache-a', 'zone-a', 'ssvm-a'],
  ['cache-b', 'zone-b', 'ssvm-b'],
] as const) {
  const host = labHosts().find((h) => h.name === vm)!;
  const sshDetails = {
    sshurl: `ssh://${host.address}:${host.port}`,
    hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(vm)),
  };
  await ensure('listSecondaryStagingStores', 'imagestore', name, async () => {
    const body = await api.call('createSecondaryStagingStore', {
      name,
      zoneid: zones.get(zone)!.id,
      url: `nfs://${host.address}${join(ferryHome, 'exports', name)}`,
      ...detailsOf(sshDetails),
    });
    return body.secondarystorage as Row;
  });
}

// The lab's image server has a loopback address of its own: allow exactly that site for user downloads, nothing else
// internal (Ferry's own services are refused whatever this says).
await api.call('updateConfiguration', { name: 'secstorage.allowed.internal.download.sites', value: labDownloadSites });

const [temporalHost] = config.temporal.address.split(':');
const lab = {
  apiUrl,
  adminKeysFile: config.admin.file,
  temporal: {
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    uiUrl: `http://${temporalHost}:${process.env.FERRY_TEMPORAL_UI_PORT ?? 8233}`,
  },
  s3: { endpoint: `http://127.0.0.1:${process.env.FERRY_S3_PORT ?? 8333}` },
  swift: { authUrl: swiftAuthUrl, account: 'ferry', user: 'ferry' },
  hosts: labHosts().map((h) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    hypervisor: h.hypervisor,
    cluster: h.cluster,
  })),
  imageServer: `http://${labImages.address}:${labImages.port}`,
  images: sampleImages(),
};
await writeFile(join(ferryHome, 'lab.json'), JSON.stringify(lab, null, 2) + '\n');
console.log(
  `ferry: demo inventory ready (${hosts.length} hosts Up, ${Object.keys(stores).length} image stores, 2 cache stores)`,
);
