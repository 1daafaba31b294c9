import { Priority, type DataMotionStrategy } from '../contract';

/** Within one store that can copy by itself, no byte passes through Ferry. */
export const storeServerSideCopy: DataMotionStrategy = {
  name: 'store-server-side-copy',
  description: 'The image store copies the object itself (S3 CopyObject, Swift COPY, cp on the NFS export)',
  rate: ({ from, to }) =>
    from.kind === 'image-store' && to.kind === 'image-store' && from.storeId === to.storeId && from.serverSideCopy
      ? Priority.PLUGIN
      : Priority.CANT_HANDLE,
  plan({ from, to }) {
    if (from.kind !== 'image-store' || to.kind !== 'image-store') return [];
    return [{ step: 'copy-within-store', storeId: from.storeId, fromKey: from.key, toKey: to.key }];
  },
};
