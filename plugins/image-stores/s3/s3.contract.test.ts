// The image-store contract against the lab's real S3 server (SeaweedFS).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createS3Bucket, labS3, removeS3Bucket, testStoreServices } from '../../../test/support/lab-stores';
import { imageStoreContract } from '../contract-suite';
import { s3Provider } from './provider';

const bucket = `contract-${randomUUID().slice(0, 8)}`;
beforeAll(() => createS3Bucket(bucket));
afterAll(() => removeS3Bucket(bucket));

imageStoreContract('S3', () => ({
  provider: s3Provider,
  open() {
    const { endpoint, accesskey, secretkey } = labS3();
    const config = s3Provider.parse({ details: { endpoint, accesskey, secretkey, bucket } });
    return Promise.resolve(s3Provider.open(config, randomUUID(), testStoreServices()));
  },
}));
