import { Priority, type DataMotionStrategy } from '../contract';

/** Between any two image stores: Ferry reads one and writes the other as a stream. */
export const storeStreamCopy: DataMotionStrategy = {
  name: 'store-stream-copy',
  description: 'Ferry streams the object from one image store into another',
  rate: ({ from, to }) =>
    from.kind === 'image-store' && to.kind === 'image-store' ? Priority.DEFAULT : Priority.CANT_HANDLE,
  plan({ from, to }) {
    if (from.kind !== 'image-store' || to.kind !== 'image-store') return [];
    return [
      {
        step: 'stream-between-stores',
        fromStoreId: from.storeId,
        fromKey: from.key,
        toStoreId: to.storeId,
        toKey: to.key,
      },
    ];
  },
};
