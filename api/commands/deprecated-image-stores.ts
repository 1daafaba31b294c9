// The pre-4.2 commands, kept as thin wrappers over the image-store commands. Each answer says it is deprecated.
import { defineCommand } from '../command';
import { listResponse } from '../list';
import { listParams, must, optional, required } from '../params';
import { addImageStoreRow, listImageStoreRows } from './image-stores';

const deprecated = (command: string, instead: string) => `${command} is deprecated; use ${instead}`;

export const addSecondaryStorage = defineCommand({
  name: 'addSecondaryStorage',
  description: 'Adds secondary storage (deprecated: use addImageStore provider=NFS)',
  isAsync: false,
  params: {
    url: required.url('the URL for the secondary storage, nfs://server/path'),
    zoneid: optional.uuid('the Zone ID for the secondary storage'),
    name: optional.string('the name for the secondary storage', must.beName),
    details: optional.map('NFS details: sshurl, sshuser, hostkeyfingerprint, mountpath'),
  },
  async handle(p, ctx) {
    const imagestore = await addImageStoreRow(ctx, { provider: 'NFS', ...p });
    return { imagestore, deprecated: deprecated('addSecondaryStorage', 'addImageStore provider=NFS') };
  },
});

export const addS3 = defineCommand({
  name: 'addS3',
  description: 'Adds S3 (deprecated: use addImageStore provider=S3)',
  isAsync: false,
  secretParams: ['secretkey'],
  params: {
    accesskey: required.string('S3 access key'),
    secretkey: required.string('S3 secret key'),
    bucket: required.string('name of the template storage bucket'),
    endpoint: optional.url('S3 endpoint'),
    usehttps: optional.boolean('connect to the S3 endpoint via HTTPS?'),
    name: optional.string('the name for the image store', must.beName),
  },
  async handle(p, ctx) {
    const details: Record<string, string> = { accesskey: p.accesskey, secretkey: p.secretkey, bucket: p.bucket };
    if (p.endpoint) details.endpoint = p.endpoint;
    if (p.usehttps !== undefined) details.usehttps = String(p.usehttps);
    const imagestore = await addImageStoreRow(ctx, { provider: 'S3', name: p.name, details });
    return { imagestore, deprecated: deprecated('addS3', 'addImageStore provider=S3') };
  },
});

export const addSwift = defineCommand({
  name: 'addSwift',
  description: 'Adds Swift (deprecated: use addImageStore provider=Swift)',
  isAsync: false,
  secretParams: ['key'],
  params: {
    url: required.url('the URL for the Swift auth endpoint'),
    account: optional.string('the account for swift'),
    username: optional.string('the username for swift'),
    key: optional.string('key for the user for swift'),
    container: optional.string('the container Ferry keeps its objects in (default: ferry)'),
    name: optional.string('the name for the image store', must.beName),
  },
  async handle(p, ctx) {
    const details: Record<string, string> = { container: p.container ?? 'ferry' };
    if (p.account) details.account = p.account;
    if (p.username) details.username = p.username;
    if (p.key) details.key = p.key;
    const imagestore = await addImageStoreRow(ctx, { provider: 'Swift', name: p.name, url: p.url, details });
    return { imagestore, deprecated: deprecated('addSwift', 'addImageStore provider=Swift') };
  },
});

export const listS3s = defineCommand({
  name: 'listS3s',
  description: 'Lists S3s (deprecated: use listImageStores provider=S3)',
  isAsync: false,
  params: { ...listParams },
  async handle(p, ctx) {
    const list = listResponse('imagestore', await listImageStoreRows(ctx, { provider: 'S3' }), p);
    return { ...list, deprecated: deprecated('listS3s', 'listImageStores provider=S3') };
  },
});

export const listSwifts = defineCommand({
  name: 'listSwifts',
  description: 'Lists Swifts (deprecated: use listImageStores provider=Swift)',
  isAsync: false,
  params: { id: optional.uuid('the id of the swift'), ...listParams },
  async handle(p, ctx) {
    const list = listResponse('imagestore', await listImageStoreRows(ctx, { provider: 'Swift', id: p.id }), p);
    return { ...list, deprecated: deprecated('listSwifts', 'listImageStores provider=Swift') };
  },
});
