// The image-store contract against the lab's NFS export, through its storage VM over SSH. The store is added through
// the API first, so its expiring URLs are served by Ferry's real download endpoint.
import { beforeAll } from 'vitest';
import { mapParams } from '../../../api/client';
import { labNfs, testStoreServices } from '../../../test/support/lab-stores';
import { adminApi, unique } from '../../../test/support/stack';
import { imageStoreContract } from '../contract-suite';
import { nfsProvider } from './provider';

let storeId: string;
let config: ReturnType<typeof nfsProvider.parse>;

beforeAll(async () => {
  const api = adminApi();
  const zone = (await api.call('createZone', { name: unique('nfs-zone'), networktype: 'Advanced' })).zone as {
    id: string;
  };
  const nfs = await labNfs();
  const body = await api.call('addImageStore', {
    provider: 'NFS',
    name: unique('nfs'),
    url: nfs.url,
    zoneid: zone.id,
    ...mapParams('details', nfs.details),
  });
  storeId = (body.imagestore as { id: string }).id;
  config = nfsProvider.parse({ url: nfs.url, details: nfs.details });
});

imageStoreContract('NFS', () => ({
  provider: nfsProvider,
  open: () => Promise.resolve(nfsProvider.open(config, storeId, testStoreServices())),
}));
