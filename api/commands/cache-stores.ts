// Cache ("secondary staging") stores: where data waits between an object store and hosts that cannot reach it
// (XenServer). They are image-store rows with role ImageCache, served by the same providers (NFS).
import { defineCommand } from '../command';
import { listResponse } from '../list';
import { must, optional, required } from '../params';
import {
  addImageStoreRow,
  deleteEmptyStore,
  imageStoreListParams,
  listImageStoreRows,
  storeById,
} from './image-stores';

export const createSecondaryStagingStore = defineCommand({
  name: 'createSecondaryStagingStore',
  description: 'create secondary staging store (a cache store) for a zone',
  isAsync: false,
  params: {
    url: required.string('the URL for the staging store, nfs://server/path'),
    zoneid: required.uuid('the Zone ID for the staging store'),
    provider: optional.string('the staging store provider name (default NFS)'),
    scope: optional.string('the scope of the staging store: zone only for now', must.beOneOf('zone')),
    name: optional.string('the name for the staging store', must.beName),
    details: optional.map('the details for the staging store (NFS: sshurl, hostkeyfingerprint, sshuser, mountpath)'),
  },
  async handle(p, ctx) {
    const store = await addImageStoreRow(ctx, { ...p, role: 'ImageCache', provider: p.provider ?? 'NFS' });
    return { secondarystorage: store };
  },
});

export const listSecondaryStagingStores = defineCommand({
  name: 'listSecondaryStagingStores',
  description: 'Lists secondary staging stores',
  isAsync: false,
  params: imageStoreListParams,
  async handle(p, ctx) {
    return listResponse('imagestore', await listImageStoreRows(ctx, p, 'ImageCache'), p);
  },
});

export const deleteSecondaryStagingStore = defineCommand({
  name: 'deleteSecondaryStagingStore',
  description: 'Deletes a secondary staging store; refused while it holds objects',
  isAsync: false,
  params: { id: required.uuid('the staging store ID') },
  async handle(p, ctx) {
    return await deleteEmptyStore(ctx, await storeById(ctx, p.id, 'ImageCache'));
  },
});
