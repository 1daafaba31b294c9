// The lab as data: its hosts (lab/hosts.txt), sample images and endpoints, shared by the seeder and the tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabHost {
  name: string;
  address: string;
  port: number;
  zone: string;
  pod: string;
  cluster: string;
  hypervisor: string;
  pool: string;
}

/** The user Ferry logs in to lab hosts as (uid 0 with /bin/sh, so no interactive dotfiles run; lab/services.sh). */
export const labHostUser = 'ferry-lab';

export const ferryRoot = join(import.meta.dirname, '..');
export const ferryHome = process.env.FERRY_HOME ?? join(ferryRoot, '.ferry');

export function labHosts(): LabHost[] {
  return readFileSync(join(ferryRoot, 'lab/hosts.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => {
      const [name, address, port, zone, pod, cluster, hypervisor, pool] = line.trim().split(/\s+/);
      return {
        name: name!,
        address: address!,
        port: Number(port),
        zone: zone!,
        pod: pod!,
        cluster: cluster!,
        hypervisor: hypervisor!,
        pool: pool!,
      };
    });
}

export const hostKeyFile = (host: string) => join(ferryHome, 'hosts', host, 'ssh_host_ed25519_key.pub');
export const poolPath = (pool: string) => join(ferryHome, 'pools', pool);

export interface SampleImage {
  name: string;
  url: string;
  format: 'QCOW2' | 'RAW';
  sha256: string;
}

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/**
 * Where the lab serves its sample images (lab/services.sh): an address of their own, so that allowing it for
 * downloads opens no other service of the lab.
 */
export const labImages = {
  address: process.env.FERRY_IMAGES_ADDRESS ?? '127.0.20.1',
  port: port('FERRY_IMAGES_PORT', 8099),
};

/** The lab's secstorage.allowed.internal.download.sites: its image server, nothing else. */
export const labDownloadSites = `${labImages.address}/32:${labImages.port}`;

/** The lab's secstorage.allowed.internal.store.endpoints: its S3 (SeaweedFS) and Swift proxy on loopback. */
export const labStoreEndpoints = `127.0.0.1:${port('FERRY_S3_PORT', 8333)}, 127.0.0.1:${port('FERRY_SWIFT_PORT', 8090)}`;

/**
 * FERRY_SERVICE_ENDPOINTS for the lab: its services that neither Ferry's configuration (API, Temporal, PostgreSQL)
 * nor its catalogue (stores, hosts) names, which no download may reach. lab/services.sh exports the same list.
 */
export function labServiceEndpoints(): string {
  const s3 = port('FERRY_S3_PORT', 8333);
  return [
    port('FERRY_TEMPORAL_UI_PORT', 8233),
    // SeaweedFS: S3, filer, master, volume server (and their gRPC ports, +10000), Iceberg and Lance.
    s3,
    s3 + 10000,
    8888,
    18888,
    9333,
    19333,
    9340,
    19340,
    8181,
    9101,
    // Swift: the proxy, its object, container and account servers, and its memcached.
    port('FERRY_SWIFT_PORT', 8090),
    6210,
    6211,
    6212,
    11212,
    // The lab workers' probe ports (lab/services.sh: the first ten workers get one each).
    ...Array.from({ length: 10 }, (_, i) => port('FERRY_WORKER_PROBE_BASE_PORT', 8280) + i),
  ]
    .map((p) => `127.0.0.1:${p}`)
    .join(',');
}

export function sampleImages(): SampleImage[] {
  return readFileSync(join(ferryHome, 'images/SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [sha256, file] = line.trim().split(/\s+/);
      return {
        name: file!,
        url: `http://${labImages.address}:${labImages.port}/${file!}`,
        format: file!.endsWith('.qcow2') ? 'QCOW2' : 'RAW',
        sha256: sha256!,
      };
    });
}
