// The lab's object stores as tests reach them: endpoints and credentials from the lab's environment,
// and the services drivers need (SSH with Ferry's key, Ferry's signed download links).
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createDownloadLinks } from '../../core/download-links';
import { hostKeyFile } from '../../lab/lab-layout';
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
export async function labNfs() {
  const ssvm = labHost('ssvm-a');
  const path = `${process.env.FERRY_HOME ?? '.ferry'}/exports/nfs-a`;
  return {
    url: `nfs://${ssvm.address}${path}`,
    details: {
      sshurl: `ssh://${ssvm.address}:${ssvm.port}`,
      hostkeyfingerprint: await fingerprintOfPublicKeyFile(hostKeyFile('ssvm-a')),
    },
  };
}

export async function createS3Bucket(bucket: string): Promise<void> {
  const s3 = labS3();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accesskey, secretAccessKey: s3.secretkey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
}

export async function createSwiftContainer(container: string): Promise<void> {
  const swift = labSwift();
  const auth = await fetch(swift.url, {
    headers: { 'X-Auth-User': `${swift.account}:${swift.username}`, 'X-Auth-Key': swift.key },
  });
  const res = await fetch(`${auth.headers.get('x-storage-url')!}/${container}`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': auth.headers.get('x-auth-token')! },
  });
  if (!res.ok) throw new Error(`cannot create Swift container ${container}: ${res.status}`);
}

export function testStoreServices(): ProviderServices {
  const config = loadConfig();
  const links = createDownloadLinks(config.masterKey, new URL(stack().apiUrl).origin);
  return {
    ssh: createSshExecutor({ ferryPrivateKey: readFileSync(config.ssh.privateKeyFile), connectTimeoutMs: 10_000 }),
    signedDownloadUrl: links.url,
  };
}
