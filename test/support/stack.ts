// What end-to-end tests share: the running stack (from global setup), a signed client, and inventory builders.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { FerryApiClient } from '../../api/client';
import { hostKeyFile, labHosts, poolPath, type LabHost } from '../../lab/lab-layout';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';

export const stack = () => inject('stack');

export const adminApi = () => new FerryApiClient(stack().apiUrl, stack());

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export function labHost(name: string): LabHost {
  const host = labHosts().find((h) => h.name === name);
  if (!host) throw new Error(`no lab host ${name}`);
  return host;
}

export const hostFingerprint = (name: string) => fingerprintOfPublicKeyFile(hostKeyFile(name));

type Row = { id: string; name: string } & Record<string, unknown>;

/** A zone, pod, cluster of the given hypervisor and its primary pool (the lab pool `pool`), all uniquely named. */
export async function makeCluster(api: FerryApiClient, hypervisor: string, pool: string) {
  const zone = (await api.call('createZone', { name: unique('zone'), networktype: 'Advanced' })).zone as Row;
  const pod = (await api.call('createPod', { name: unique('pod'), zoneid: zone.id })).pod as Row;
  const cluster = (
    (await api.call('addCluster', { clustername: unique('cluster'), zoneid: zone.id, podid: pod.id, hypervisor }))
      .cluster as Row[]
  )[0]!;
  const storagePool = (
    await api.call('createStoragePool', {
      name: unique('pool'),
      zoneid: zone.id,
      podid: pod.id,
      clusterid: cluster.id,
      url: `SharedMountPoint://${poolPath(pool)}`,
    })
  ).storagepool as Row;
  return { zone, pod, cluster, storagePool };
}
