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

export function sampleImages(imagesPort: number): SampleImage[] {
  return readFileSync(join(ferryHome, 'images/SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [sha256, file] = line.trim().split(/\s+/);
      return {
        name: file!,
        url: `http://127.0.0.1:${imagesPort}/${file!}`,
        format: file!.endsWith('.qcow2') ? 'QCOW2' : 'RAW',
        sha256: sha256!,
      };
    });
}
