// Image stores through the API with the `cs` client, on the lab's real S3, Swift and NFS.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createS3Bucket,
  createSwiftContainer,
  labNfs,
  labS3,
  labSwift,
  removeS3Bucket,
  removeSwiftContainer,
} from '../support/lab-stores';
import { labStoreEndpoints } from '../../lab/lab-layout';
import { cs, details } from '../support/cs';
import { adminApi, stack, unique } from '../support/stack';

type Store = { id: string; name: string; readonly: boolean; scope: string; providername: string } & Record<
  string,
  unknown
>;

const STORES = 'secstorage.allowed.internal.store.endpoints';
const bucket = `stores-${randomUUID().slice(0, 8)}`;
const container = `stores-${randomUUID().slice(0, 8)}`;
let zoneId: string;
const responses: string[] = [];

async function call(command: string, params: Record<string, string> = {}) {
  const result = await cs(command, params);
  responses.push(result.output);
  return result;
}

async function storeCount(): Promise<number> {
  return Number((await adminApi().call('listImageStores')).count);
}

function s3Params(): Promise<Record<string, string>> {
  const s3 = labS3();
  return Promise.resolve({
    provider: 'S3',
    ...details({ endpoint: s3.endpoint, accesskey: s3.accesskey, secretkey: s3.secretkey, bucket }),
  });
}

function swiftParams(): Promise<Record<string, string>> {
  const swift = labSwift();
  return Promise.resolve({
    provider: 'Swift',
    url: swift.url,
    ...details({ account: swift.account, username: swift.username, key: swift.key, container }),
  });
}

async function nfsParams(): Promise<Record<string, string>> {
  const nfs = await labNfs();
  return { provider: 'NFS', url: nfs.url, zoneid: zoneId, ...details(nfs.details) };
}

beforeAll(async () => {
  await createS3Bucket(bucket);
  await createSwiftContainer(container);
  zoneId = ((await adminApi().call('createZone', { name: unique('stores'), networktype: 'Advanced' })).zone as Store)
    .id;
});

afterAll(async () => {
  // Stores still listed point at the bucket and container removed below: read-only, so no later test writes there.
  for (const store of (await adminApi().call('listImageStores')).imagestore as Store[]) {
    await adminApi().call('updateImageStore', { id: store.id, readonly: true });
  }
  await removeS3Bucket(bucket);
  await removeSwiftContainer(container);
});

describe('image stores through the API', () => {
  it.each([
    ['S3', s3Params, 'REGION'],
    ['Swift', swiftParams, 'REGION'],
    ['NFS', nfsParams, 'ZONE'],
  ] as const)('adds, lists, sets read-only, enables and deletes a %s store', async (provider, params, scope) => {
    const name = unique(provider.toLowerCase());
    const added = await call('addImageStore', { ...(await params()), name });
    expect(added.ok, added.output).toBe(true);
    const store = added.body.imagestore as Store;
    expect(store).toMatchObject({ name, providername: provider, scope, readonly: false });

    const listed = await call('listImageStores', { name });
    expect(listed.body).toMatchObject({ count: 1, imagestore: [{ id: store.id }] });
    expect((await call('listImageStores', { provider })).body.imagestore).toContainEqual(
      expect.objectContaining({ id: store.id }),
    );

    expect((await call('updateImageStore', { id: store.id, readonly: 'true' })).body.imagestore).toMatchObject({
      readonly: true,
    });
    expect((await call('listImageStores', { id: store.id, readonly: 'true' })).body).toMatchObject({ count: 1 });
    expect((await call('enableImageStore', { id: store.id })).body.imagestore).toMatchObject({ readonly: false });

    expect((await call('deleteImageStore', { id: store.id })).body).toMatchObject({ success: true });
    expect((await call('listImageStores', { id: store.id })).body).toMatchObject({ count: 0 });
  });

  it('reports capacity where the backend can tell', async () => {
    const nfs = (await call('addImageStore', { ...(await nfsParams()), name: unique('nfs-cap') })).body
      .imagestore as Store;
    expect(nfs.disksizetotal).toBeGreaterThan(0);
    await call('deleteImageStore', { id: nfs.id });
  });

  it('refuses to delete a store that holds objects (536)', async () => {
    const store = (await call('addImageStore', { ...(await s3Params()), name: unique('busy') })).body
      .imagestore as Store;
    const s3 = labS3();
    const { S3Client, PutObjectCommand, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accesskey, secretAccessKey: s3.secretkey },
    });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'template/tmpl/1/2/disk.qcow2', Body: 'x' }));
    const refused = await call('deleteImageStore', { id: store.id });
    expect(refused.ok).toBe(false);
    expect(refused.body).toMatchObject({ errorcode: 536 });
    expect(String(refused.body.errortext)).toContain('template/tmpl/1/2/disk.qcow2');
    expect((await call('listImageStores', { id: store.id })).body).toMatchObject({ count: 1 });
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'template/tmpl/1/2/disk.qcow2' }));
    expect((await call('deleteImageStore', { id: store.id })).ok).toBe(true);
    client.destroy();
  });

  it('keeps the deprecated commands working, flagged as deprecated', async () => {
    const s3 = labS3();
    const addS3 = await call('addS3', {
      accesskey: s3.accesskey,
      secretkey: s3.secretkey,
      bucket,
      endpoint: s3.endpoint,
      name: unique('old-s3'),
    });
    expect(addS3.body).toMatchObject({ imagestore: { providername: 'S3', scope: 'REGION' } });
    expect(String(addS3.body.deprecated)).toContain('addImageStore');
    const swift = labSwift();
    const addSwift = await call('addSwift', {
      url: swift.url,
      account: swift.account,
      username: swift.username,
      key: swift.key,
      container,
      name: unique('old-swift'),
    });
    expect(addSwift.body).toMatchObject({ imagestore: { providername: 'Swift' } });
    expect(String(addSwift.body.deprecated)).toContain('deprecated');
    const nfs = await labNfs();
    const addNfs = await call('addSecondaryStorage', {
      url: nfs.url,
      zoneid: zoneId,
      name: unique('old-nfs'),
      ...details(nfs.details),
    });
    expect(addNfs.body).toMatchObject({ imagestore: { providername: 'NFS', scope: 'ZONE' } });
    expect(String(addNfs.body.deprecated)).toContain('deprecated');

    const s3s = await call('listS3s');
    expect(s3s.body.imagestore).toContainEqual(expect.objectContaining({ id: (addS3.body.imagestore as Store).id }));
    expect(String(s3s.body.deprecated)).toContain('listImageStores');
    const swifts = await call('listSwifts');
    expect(swifts.body.imagestore).toContainEqual(
      expect.objectContaining({ id: (addSwift.body.imagestore as Store).id }),
    );
    expect(String(swifts.body.deprecated)).toContain('deprecated');
    for (const added of [addS3, addSwift, addNfs])
      await call('deleteImageStore', { id: (added.body.imagestore as Store).id });
  });

  it('lists the image-store providers with their capabilities', async () => {
    const image = await call('listStorageProviders', { type: 'image' });
    const names = (image.body.dataStoreProvider as { name: string }[]).map((p) => p.name).sort();
    expect(names).toEqual(['NFS', 'S3', 'Swift']);
    // Cache stores need a provider the hosts can mount.
    const cache = await call('listStorageProviders', { type: 'cache' });
    expect(cache.body.dataStoreProvider).toMatchObject([{ name: 'NFS', type: 'ImageCache' }]);
    expect((await call('listStorageProviders', { type: 'tape' })).body).toMatchObject({ errorcode: 431 });
  });

  it('refuses bad input before anything is saved, each with the right code and an actionable reason', async () => {
    const s3 = labS3();
    const swift = labSwift();
    const before = await storeCount();
    const existing = (await call('addImageStore', { ...(await s3Params()), name: unique('dup') })).body
      .imagestore as Store;
    const cases: [string, Record<string, string>, number, RegExp][] = [
      [
        'unreachable endpoint',
        { provider: 'S3', ...details({ endpoint: 'http://127.0.0.1:1', accesskey: 'a', secretkey: 'b', bucket }) },
        534,
        /cannot be reached/,
      ],
      [
        'internal endpoint not allowed',
        { provider: 'S3', ...details({ endpoint: 'http://127.0.0.2:2', accesskey: 'a', secretkey: 'b', bucket }) },
        431,
        /is not allowed: .*secstorage\.allowed\.internal\.store\.endpoints/,
      ],
      [
        "Ferry's own API as a Swift endpoint",
        {
          provider: 'Swift',
          url: `${stack().apiUrl}`,
          ...details({ account: 'a', username: 'b', key: 'c', container }),
        },
        431,
        /a store is never one of Ferry's own services/,
      ],
      [
        'wrong S3 keys',
        {
          provider: 'S3',
          ...details({ endpoint: s3.endpoint, accesskey: s3.accesskey, secretkey: 'wrong-secret', bucket }),
        },
        431,
        /refused the access key/,
      ],
      [
        'missing bucket',
        {
          provider: 'S3',
          ...details({
            endpoint: s3.endpoint,
            accesskey: s3.accesskey,
            secretkey: s3.secretkey,
            bucket: 'no-such-bucket-here',
          }),
        },
        431,
        /does not exist/,
      ],
      [
        'wrong Swift key',
        {
          provider: 'Swift',
          url: swift.url,
          ...details({ account: 'ferry', username: 'ferry', key: 'wrong', container }),
        },
        431,
        /refused the credentials/,
      ],
      [
        'missing container',
        {
          provider: 'Swift',
          url: swift.url,
          ...details({ account: 'ferry', username: 'ferry', key: swift.key, container: 'no-such-container' }),
        },
        431,
        /does not exist/,
      ],
      [
        'malformed URL',
        { provider: 'Swift', url: 'not a url', ...details({ account: 'a', username: 'b', key: 'c', container }) },
        431,
        /not a URL/,
      ],
      ['NFS without zone', { ...(await nfsParams()), zoneid: '' }, 431, /zone-wide: give a zoneid/],
      ['malformed NFS url', { ...(await nfsParams()), url: 'nfs:/nope' }, 431, /nfs:\/\/server/],
      ['duplicate name', { ...(await s3Params()), name: existing.name }, 431, /already exists/],
      ['unknown provider', { provider: 'Tape', url: 'tape://x' }, 431, /unknown/],
      [
        'unknown detail key',
        { ...(await s3Params()), ...details({ flavour: 'vanilla' }) },
        431,
        /do not know the detail flavour/,
      ],
    ];
    // All of 127.0.0.1 allowed: a closed port there is the driver's check to call unreachable, and Ferry's own API
    // there is refused all the same (no setting opens it).
    const allowed = `${labStoreEndpoints}, 127.0.0.1`;
    await adminApi().call('updateConfiguration', { name: STORES, value: allowed });
    try {
      for (const [what, params, code, reason] of cases) {
        const refused = await call('addImageStore', { name: unique('bad'), ...params });
        expect(refused.ok, what).toBe(false);
        expect(refused.body.errorcode, `${what}: ${refused.output}`).toBe(code);
        expect(String(refused.body.errortext), what).toMatch(reason);
      }
    } finally {
      await adminApi().call('updateConfiguration', { name: STORES, value: labStoreEndpoints });
    }
    expect(await storeCount()).toBe(before + 1);
    await call('deleteImageStore', { id: existing.id });
  });

  it('never shows a secret: not in any response, not in the logs, only ciphertext in the database', async () => {
    const secrets = [labS3().secretkey, labSwift().key];
    for (const params of [await s3Params(), await swiftParams()]) {
      expect((await call('addImageStore', { ...params, name: unique('kept') })).ok).toBe(true);
    }
    const all = responses.join('\n') + JSON.stringify(await adminApi().call('listImageStores'));
    const log = readFileSync(stack().logFile, 'utf8');
    expect(log.length).toBeGreaterThan(0);
    const sql = postgres(stack().databaseUrl, { max: 1 });
    try {
      const rows = await sql`select * from image_stores`;
      const dump = JSON.stringify(rows);
      expect(rows.some((r) => r.secrets_ciphertext)).toBe(true);
      for (const secret of secrets) {
        expect(all).not.toContain(secret);
        expect(log).not.toContain(secret);
        expect(dump).not.toContain(secret);
      }
    } finally {
      await sql.end();
    }
  });
});
