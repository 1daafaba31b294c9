// OpenStack Swift image stores: v1 auth (tempauth, or Keystone's v1 shim), temp URLs, SLO large objects.
import { StoreCheckError, type ImageStoreProvider, type StoreConfig, type StoreInput } from '../contract';
import { detailReader, parseHttpUrl, refuseUnknownDetails } from '../details';
import { openSwiftDriver } from './driver';

// CloudStack's Swift details (account, username, key) plus the container Ferry keeps its objects in.
const detailKeys = ['account', 'username', 'key', 'container'] as const;

export const swiftProvider: ImageStoreProvider = {
  name: 'Swift',
  capabilities: {
    scopes: ['REGION', 'ZONE'],
    expiringUrls: true,
    multipartResume: true,
    serverSideCopy: true,
    reportsCapacity: true,
    partUploadUrls: true,
    hostMountable: false,
  },
  detailKeys,
  parse(input: StoreInput): StoreConfig {
    refuseUnknownDetails('Swift', input.details, detailKeys);
    const d = detailReader('Swift', input.details);
    if (!input.url)
      throw new StoreCheckError('config', 'Swift image stores need the url of the auth endpoint (…/auth/v1.0).');
    const url = parseHttpUrl('Swift', 'url', input.url);
    const container = d.required('container');
    if (container.includes('/') || container.length > 200) {
      throw new StoreCheckError(
        'config',
        `Swift container name ${container} must have no "/" and at most 200 characters.`,
      );
    }
    return {
      settings: {
        authurl: url.toString(),
        account: d.required('account'),
        username: d.required('username'),
        container,
      },
      secrets: { key: d.required('key') },
      url: url.toString(),
      protocol: url.protocol.replace(':', ''),
    };
  },
  open: (config) => openSwiftDriver(config),
};
