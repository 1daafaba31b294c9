// The URL-policy settings the end-to-end tests run under: the lab's own (its image server for downloads; its S3 and
// Swift for store endpoints), plus one loopback address for the HTTP servers tests start themselves (an HTML page, a
// slow source), any port. Global setup applies them to each run's database; a test that changes them restores them.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FerryApiClient } from '../../api/client';
import { labDownloadSites, labStoreEndpoints } from '../../lab/lab-layout';

export const testSourceAddress = '127.0.20.2';
export const testDownloadSites = `${labDownloadSites}, ${testSourceAddress}/32`;

export async function applyTestSites(api: FerryApiClient): Promise<void> {
  await api.call('updateConfiguration', {
    name: 'secstorage.allowed.internal.download.sites',
    value: testDownloadSites,
  });
  await api.call('updateConfiguration', {
    name: 'secstorage.allowed.internal.store.endpoints',
    value: labStoreEndpoints,
  });
}

/** Starts `server` on the tests' source address; answers its base URL (http://127.0.20.2:<port>). */
export async function listenAsSource(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, testSourceAddress, resolve));
  return `http://${testSourceAddress}:${(server.address() as AddressInfo).port}`;
}
