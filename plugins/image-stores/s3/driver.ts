// The S3 driver: streaming puts and gets, ranged reads, presigned URLs, resumable multipart uploads.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StoreCheckError, type ImageStoreDriver, type OpenUpload, type StoreConfig } from '../contract';
import { required } from '../details';
import { withPart } from '../multipart-state';

const MiB = 1024 * 1024;

export function openS3Driver(config: StoreConfig): ImageStoreDriver {
  const { endpoint, bucket, region, pathstyle } = required(config.settings, [
    'endpoint',
    'bucket',
    'region',
    'pathstyle',
  ]);
  const { accesskey, secretkey } = required(config.secrets, ['accesskey', 'secretkey']);
  const s3 = new S3Client({
    endpoint,
    region,
    forcePathStyle: pathstyle === 'true',
    credentials: { accessKeyId: accesskey, secretAccessKey: secretkey },
    // Non-AWS servers (SeaweedFS, Ceph, MinIO) mishandle the SDK's default streaming CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });

  async function head(key: string) {
    try {
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: h.ContentLength ?? 0 };
    } catch (err) {
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async function* listUploads(prefix: string): AsyncIterable<OpenUpload> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        yield { key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated ?? new Date(0) };
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  return {
    async check() {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
        if (status === 404) {
          throw new StoreCheckError(
            'missing-container',
            `S3 bucket ${bucket} does not exist at ${endpoint}; create it first.`,
          );
        }
        if (status === 403 || status === 401) {
          throw new StoreCheckError(
            'credentials',
            `S3 at ${endpoint} refused the access key and secret key for bucket ${bucket}.`,
          );
        }
        if (status === undefined) {
          throw new StoreCheckError(
            'unreachable',
            `S3 endpoint ${endpoint} cannot be reached: ${(err as Error).message}`,
          );
        }
        throw new StoreCheckError(
          'unreachable',
          `S3 endpoint ${endpoint} answered HTTP ${status} for bucket ${bucket}.`,
        );
      }
    },

    capacity: () => Promise.resolve({}),

    async put(key, body) {
      // lib-storage streams in 8 MiB parts (4 in flight at most): memory stays bounded whatever the size.
      await new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: body },
        partSize: 8 * MiB,
        queueSize: 4,
      }).done();
      return (await head(key))!;
    },

    async get(key, range) {
      const out = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return out.Body as Readable;
    },

    head,

    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          yield { key: o.Key!, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    expiringUrl: (key, seconds) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds }),

    async copy(fromKey, toKey) {
      await s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${encodeURIComponent(fromKey)}` }),
      );
      return (await head(toKey))!;
    },

    multipart: {
      minPartSize: 5 * MiB,
      async begin(key) {
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        return { key, uploadId: UploadId!, parts: [] };
      },
      async putPart(state, partNumber, body, size) {
        const { ETag } = await s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: state.key,
            UploadId: state.uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: size,
          }),
        );
        return withPart(state, { partNumber, size, etag: ETag! });
      },
      partUploadUrl: (state, partNumber, seconds) =>
        getSignedUrl(
          s3,
          new UploadPartCommand({ Bucket: bucket, Key: state.key, UploadId: state.uploadId, PartNumber: partNumber }),
          { expiresIn: seconds },
        ),
      async complete(state) {
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: state.key,
            UploadId: state.uploadId,
            MultipartUpload: { Parts: state.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
        return (await head(state.key))!;
      },
      async abort(state) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: state.key, UploadId: state.uploadId }));
      },
      listUploads,
      async abortAbandoned(prefix, olderThan) {
        let aborted = 0;
        for await (const u of listUploads(prefix)) {
          if (u.initiated >= olderThan) continue;
          await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
          aborted++;
        }
        return aborted;
      },
    },

    close() {
      s3.destroy();
      return Promise.resolve();
    },
  };
}
