// S3 image stores (@aws-sdk/client-s3): any S3-compatible endpoint, region-wide or zone-scoped.
import { StoreCheckError, type ImageStoreProvider, type StoreConfig, type StoreInput } from '../contract';
import { detailReader, parseHttpUrl, refuseUnknownDetails } from '../details';
import { openS3Driver } from './driver';

// CloudStack's S3 detail keys, plus region and pathstyle.
const detailKeys = [
  'accesskey',
  'secretkey',
  'bucket',
  'endpoint',
  'usehttps',
  'region',
  'pathstyle',
  's3signer',
  'connectiontimeout',
  'sockettimeout',
  'maxerrorretry',
  'connectionttl',
  'usetcpkeepalive',
] as const;

export const s3Provider: ImageStoreProvider = {
  name: 'S3',
  capabilities: {
    scopes: ['REGION', 'ZONE'],
    expiringUrls: true,
    multipartResume: true,
    serverSideCopy: true,
    reportsCapacity: false,
    partUploadUrls: true,
    hostMountable: false,
  },
  detailKeys,
  parse(input: StoreInput): StoreConfig {
    refuseUnknownDetails('S3', input.details, detailKeys);
    const d = detailReader('S3', input.details);
    const https = d.boolean('usehttps', false);
    // The endpoint may come as a detail (CloudStack: host[:port]) or as the url.
    const raw = d.optional('endpoint') ?? input.url;
    if (!raw) throw new StoreCheckError('config', 'S3 image stores need an endpoint (detail endpoint or url).');
    const endpoint = parseHttpUrl(
      'S3',
      'endpoint',
      /^https?:\/\//i.test(raw) ? raw : `${https ? 'https' : 'http'}://${raw}`,
    );
    const bucket = d.required('bucket');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new StoreCheckError(
        'config',
        `S3 bucket name ${bucket} is not valid (3-63 lower-case letters, digits, dots, dashes).`,
      );
    }
    return {
      settings: {
        endpoint: endpoint.origin,
        bucket,
        region: d.optional('region') ?? 'us-east-1',
        pathstyle: String(d.boolean('pathstyle', true)),
      },
      secrets: { accesskey: d.required('accesskey'), secretkey: d.required('secretkey') },
      url: `${endpoint.origin}/${bucket}`,
      protocol: endpoint.protocol.replace(':', ''),
    };
  },
  open: (config) => openS3Driver(config),
};
