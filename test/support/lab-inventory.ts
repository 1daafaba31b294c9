// Builds, in the test database and through the API, an inventory like the demo's: two zones with KVM, XenServer and
// VMware pools on the lab's hosts (KVM in both zones), a region S3 store, an NFS store in zone A, a Swift store in zone B and a cache
// store per zone. Every name is unique, so test files do not collide.
import { randomUUID } from 'node:crypto';
import { mapParams, type FerryApiClient } from '../../api/client';
import { hostKeyFile, labHostUser, poolPath } from '../../lab/lab-layout';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import {
  createS3Bucket,
  createSwiftContainer,
  freshNfsDir,
  labS3,
  labSwift,
  removeNfsDir,
  removeS3Bucket,
  removeSwiftContainer,
} from './lab-stores';
import { applyTestSites } from './lab-sites';
import { labHost, unique } from './stack';

type Row = { id: string; name: string } & Record<string, unknown>;

export interface LabInventory {
  zoneA: Row;
  zoneB: Row;
  pods: { podA: Row; podB: Row };
  pools: { kvmA: Row; xenA: Row; kvmB: Row; vmwB: Row };
  stores: { s3Region: Row; nfsA: Row; swiftB: Row };
  bucket: string;
  container: string;
  /** The inventory's own directories of the lab's NFS exports (image store and cache stores). */
  nfsDirs: string[];
}

async function sshDetails(vm: string) {
  const host = labHost(vm);
  return {
    sshurl: `ssh://${host.address}:${host.port}`,
    hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(vm)),
  };
}

export async function buildLabInventory(api: FerryApiClient): Promise<LabInventory> {
  await applyTestSites(api);
  const zone = async (prefix: string) =>
    (await api.call('createZone', { name: unique(prefix), networktype: 'Advanced' })).zone as Row;
  const zoneA = await zone('zone-a');
  const zoneB = await zone('zone-b');
  const podA = (await api.call('createPod', { name: unique('pod-a'), zoneid: zoneA.id })).pod as Row;
  const podB = (await api.call('createPod', { name: unique('pod-b'), zoneid: zoneB.id })).pod as Row;

  const jobs: string[] = [];
  async function cluster(z: Row, pod: Row, hypervisor: string, hostName: string, pool: string): Promise<Row> {
    const c = (
      (await api.call('addCluster', { clustername: unique(pool), zoneid: z.id, podid: pod.id, hypervisor }))
        .cluster as Row[]
    )[0]!;
    const p = (
      await api.call('createStoragePool', {
        name: unique(pool),
        zoneid: z.id,
        podid: pod.id,
        clusterid: c.id,
        url: `SharedMountPoint://${poolPath(pool)}`,
      })
    ).storagepool as Row;
    const h = labHost(hostName);
    const added = await api.call('addHost', {
      name: unique(hostName),
      clusterid: c.id,
      hypervisor,
      url: `ssh://${h.address}:${h.port}`,
      username: labHostUser,
      hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(hostName)),
    });
    jobs.push(String(added.jobid));
    return p;
  }
  const kvmA = await cluster(zoneA, podA, 'KVM', 'kvm-a1', 'primary-kvm-a');
  const xenA = await cluster(zoneA, podA, 'XenServer', 'xen-a1', 'primary-xen-a');
  const kvmB = await cluster(zoneB, podB, 'KVM', 'kvm-b1', 'primary-kvm-b');
  const vmwB = await cluster(zoneB, podB, 'VMware', 'vmw-b1', 'primary-vmw-b');
  for (const job of jobs) {
    const result = await api.waitForJob(job);
    if (result.jobstatus !== 1) throw new Error(`addHost failed: ${JSON.stringify(result.jobresult)}`);
  }

  const bucket = `templates-${randomUUID().slice(0, 8)}`;
  const container = `templates-${randomUUID().slice(0, 8)}`;
  await createS3Bucket(bucket);
  await createSwiftContainer(container);
  const s3 = labS3();
  const swift = labSwift();
  const add = async (params: Record<string, string>) => (await api.call('addImageStore', params)).imagestore as Row;
  const s3Region = await add({
    provider: 'S3',
    name: unique('s3-region'),
    ...mapParams('details', { endpoint: s3.endpoint, accesskey: s3.accesskey, secretkey: s3.secretkey, bucket }),
  });
  const ssvmA = labHost('ssvm-a');
  const nfsDirs = [freshNfsDir('nfs-a'), freshNfsDir('cache-a'), freshNfsDir('cache-b')];
  const nfsA = await add({
    provider: 'NFS',
    name: unique('nfs-a'),
    zoneid: zoneA.id,
    url: `nfs://${ssvmA.address}${nfsDirs[0]}`,
    ...mapParams('details', await sshDetails('ssvm-a')),
  });
  const swiftB = await add({
    provider: 'Swift',
    name: unique('swift-b'),
    zoneid: zoneB.id,
    url: swift.url,
    ...mapParams('details', { account: swift.account, username: swift.username, key: swift.key, container }),
  });
  for (const [z, name, vm, dir] of [
    [zoneA, 'cache-a', 'ssvm-a', nfsDirs[1]!],
    [zoneB, 'cache-b', 'ssvm-b', nfsDirs[2]!],
  ] as const) {
    await api.call('createSecondaryStagingStore', {
      name: unique(name),
      zoneid: z.id,
      url: `nfs://${labHost(vm).address}${dir}`,
      ...mapParams('details', await sshDetails(vm)),
    });
  }
  return {
    zoneA,
    zoneB,
    pods: { podA, podB },
    pools: { kvmA, xenA, kvmB, vmwB },
    stores: { s3Region, nfsA, swiftB },
    bucket,
    container,
    nfsDirs,
  };
}

/**
 * Removes the inventory's bucket and container. Its stores stay in the (per-run) catalogue but are set read-only
 * first, so later test files never choose them for a new template.
 */
export async function removeLabInventoryStorage(api: FerryApiClient, lab: LabInventory | undefined): Promise<void> {
  if (!lab) return;
  for (const store of Object.values(lab.stores)) await api.call('updateImageStore', { id: store.id, readonly: true });
  await removeS3Bucket(lab.bucket);
  await removeSwiftContainer(lab.container);
  for (const dir of lab.nfsDirs) removeNfsDir(dir);
}
