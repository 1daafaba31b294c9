import { Priority, type DataMotionStrategy } from '../contract';

/** Ferry streams the URL into the store, checking size, format and checksum on the way. */
export const urlToStore: DataMotionStrategy = {
  name: 'url-to-store',
  description: 'Ferry downloads the URL and streams it into the image store (resumable multipart)',
  rate: ({ from, to }) => (from.kind === 'url' && to.kind === 'image-store' ? Priority.DEFAULT : Priority.CANT_HANDLE),
  plan({ from, to, format, checksum }) {
    if (from.kind !== 'url' || to.kind !== 'image-store') return [];
    return [{ step: 'download', url: from.url, storeId: to.storeId, key: to.key, format, checksum }];
  },
};
