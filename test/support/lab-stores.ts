// The lab's object stores as tests reach them: endpoints and credentials from the lab's environment,
// and the services drivers need (SSH with Ferry's key, Ferry's signed download links).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { createDownloadLinks } from '../../core/download-links';
import { ferryHome, hostKeyFile } from '../../lab/lab-layout';
import type { ProviderServices } from '../../plugins/image-stores/contract';
import { createSshExecutor } from '../../ssh/executor';
import { fingerprintOfPublicKeyFile } from '../../ssh/known-host';
import { loadConfig } from '../../temporal.config';
import { labHost, stack } from './stack';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with ./ferry test`);
  return value;
};

export const labS3 = () => ({
  endpoint: `http://127.0.0.1:${process.env.FERRY_S3_PORT ?? 8333}`,
  accesskey: env('FERRY_S3_ACCESS_KEY'),
  secretkey: env('FERRY_S3_SECRET_KEY'),
});

export const labSwift = () => ({
  url: `http://127.0.0.1:${process.env.FERRY_SWIFT_PORT ?? 8090}/auth/v1.0`,
  account: 'ferry',
  username: 'ferry',
  key: env('FERRY_SWIFT_KEY'),
});

/** The lab's NFS export for zone-a, reached through its storage VM. */
/**
 * A fresh directory of the lab's NFS export for one test store, so no test sees (or must delete) another's objects.
 * Removed with removeNfsDir.
 */
export function freshNfsDir(export_ = 'nfs-a'): string {
  const dir = join(ferryHome, 'exports', export_, 'tests', randomUUID().slice(0, 8));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeNfsDir(dir: string): void {
  if (dir.includes('/exports/') && dir.includes('/tests/')) rmSync(dir, { recursive: true, force: true });
}

export async function labNfs() {
  const ssvm = labHost('ssvm-a');
  const path = freshNfsDir();
  return {
    url: `nfs://${ssvm.address}${path}`,
    details: {
      sshurl: `ssh://${ssvm.address}:${ssvm.port}`,
      hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile('ssvm-a')),
    },
  };
}

export function labS3Client(): S3Client {
  const s3 = labS3();
  return new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accesskey, secretAccessKey: s3.secretkey },
  });
}

export async function createS3Bucket(bucket: string): Promise<void> {
  const client = labS3Client();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

/** Empties and removes a test bucket, so the lab's S3 server does not fill up run after run. */
export async function removeS3Bucket(bucket: string): Promise<void> {
  const client = labS3Client();
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
    }
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      if (!page.Contents?.length) break;
      for (const o of page.Contents) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

async function swiftLogin(): Promise<{ storageUrl: string; token: string }> {
  const swift = labSwift();
  const auth = await fetch(swift.url, {
    headers: { 'X-Auth-User': `${swift.account}:${swift.username}`, 'X-Auth-Key': swift.key },
  });
  return { storageUrl: auth.headers.get('x-storage-url')!, token: auth.headers.get('x-auth-token')! };
}

export interface SwiftObject {
  name: string;
  bytes: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
}

/** The objects of a container whose names start with `prefix` (every page). */
export async function listSwift(container: string, prefix: string): Promise<SwiftObject[]> {
  const { storageUrl, token } = await swiftLogin();
  const found: SwiftObject[] = [];
  for (let marker = '', page = 0; page < 100; page++) {
    const query = new URLSearchParams({ format: 'json', prefix, marker });
    const res = await fetch(`${storageUrl}/${encodeURIComponent(container)}?${query.toString()}`, {
      headers: { 'X-Auth-Token': token },
    });
    if (res.status === 404) return found;
    if (!res.ok) throw new Error(`cannot list Swift container ${container}: ${res.status}`);
    const objects = (await res.json()) as { name: string; bytes: number; last_modified: string }[];
    if (objects.length === 0) break;
    // Swift gives UTC times without a zone.
    found.push(...objects.map((o) => ({ ...o, lastModified: Date.parse(`${o.last_modified}Z`) })));
    marker = objects[objects.length - 1]!.name;
  }
  return found;
}

/** An object's bytes as a stream (a large object's manifest reads as its segments joined). */
export async function readSwift(container: string, key: string): Promise<AsyncIterable<Uint8Array>> {
  const { storageUrl, token } = await swiftLogin();
  const path = key.split('/').map(encodeURIComponent).join('/');
  const res = await fetch(`${storageUrl}/${encodeURIComponent(container)}/${path}`, {
    headers: { 'X-Auth-Token': token },
  });
  if (!res.ok || !res.body) throw new Error(`cannot read Swift object ${key}: ${res.status}`);
  return res.body;
}

export async function createSwiftContainer(container: string): Promise<void> {
  const { storageUrl, token } = await swiftLogin();
  const res = await fetch(`${storageUrl}/${container}`, { method: 'PUT', headers: { 'X-Auth-Token': token } });
  if (!res.ok) throw new Error(`cannot create Swift container ${container}: ${res.status}`);
}

/** Empties and removes a test container and its segments container. */
export async function removeSwiftContainer(container: string): Promise<void> {
  const { storageUrl, token } = await swiftLogin();
  const headers = { 'X-Auth-Token': token };
  for (const name of [container, `${container}_segments`]) {
    for (;;) {
      const res = await fetch(`${storageUrl}/${name}?format=json`, { headers });
      if (!res.ok) break;
      const objects = (await res.json()) as { name: string }[];
      if (objects.length === 0) break;
      for (const o of objects) {
        const path = o.name.split('/').map(encodeURIComponent).join('/');
        await (await fetch(`${storageUrl}/${name}/${path}`, { method: 'DELETE', headers })).body?.cancel();
      }
    }
    await (await fetch(`${storageUrl}/${name}`, { method: 'DELETE', headers })).body?.cancel();
  }
}

export function testStoreServices(): ProviderServices {
  const config = loadConfig();
  const links = createDownloadLinks(config.masterKey, new URL(stack().apiUrl).origin);
  return {
    ssh: createSshExecutor({ ferryPrivateKey: readFileSync(config.ssh.privateKeyFile), connectTimeoutMs: 10_000 }),
    signedDownloadUrl: links.url,
  };
}
