// Lab provisioning of the object stores' buckets and containers (what a cloud operator would do before adding them).
import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

export async function ensureS3Bucket(endpoint: string, accessKey: string, secretKey: string, bucket: string) {
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = err instanceof S3ServiceException ? err.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  } finally {
    s3.destroy();
  }
}

export async function ensureSwiftContainer(authUrl: string, user: string, key: string, container: string) {
  const auth = await fetch(authUrl, { headers: { 'X-Auth-User': user, 'X-Auth-Key': key } });
  const storageUrl = auth.headers.get('x-storage-url');
  const token = auth.headers.get('x-auth-token');
  if (!auth.ok || !storageUrl || !token) throw new Error(`Swift login at ${authUrl} failed: ${auth.status}`);
  const res = await fetch(`${storageUrl}/${encodeURIComponent(container)}`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': token },
  });
  if (!res.ok) throw new Error(`cannot create Swift container ${container}: ${res.status}`);
}
