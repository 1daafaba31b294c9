// Seeds the demo inventory of SPEC §3 through Ferry's own API (idempotent: existing names are kept),
// then writes .ferry/lab.json. Run by `./ferry up` once the API answers.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryApiClient, type ApiKeys } from '../api/client';
import { fingerprintOfPublicKeyFile } from '../ssh/known-host';
import { loadConfig } from '../temporal.config';
import { ferryHome, hostKeyFile, labHosts, poolPath, sampleImages } from './lab-layout';

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
    username: 'root',
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

const imagesPort = Number(process.env.FERRY_IMAGES_PORT ?? 8099);
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
  swift: null,
  hosts: labHosts().map((h) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    hypervisor: h.hypervisor,
    cluster: h.cluster,
  })),
  images: sampleImages(imagesPort),
};
await writeFile(join(ferryHome, 'lab.json'), JSON.stringify(lab, null, 2) + '\n');
console.log(`ferry: demo inventory ready (${hosts.length} hosts Up)`);
