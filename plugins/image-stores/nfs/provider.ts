// NFS image stores: an export that hypervisor hosts mount, reached by Ferry through an SSH endpoint that has it
// mounted (CloudStack reaches it through its secondary storage VM). Zone scope only.
import { posix } from 'node:path';
import { FINGERPRINT_PATTERN } from '../../../ssh/fingerprint';
import { StoreCheckError, type ImageStoreProvider, type StoreConfig, type StoreInput } from '../contract';
import { detailReader, refuseUnknownDetails } from '../details';
import { openNfsDriver } from './driver';

const detailKeys = ['sshurl', 'sshuser', 'hostkeyfingerprint', 'mountpath'] as const;

function absolutePath(what: string, path: string): string {
  if (!path.startsWith('/') || posix.normalize(path) !== path || path === '/' || path.includes('\0')) {
    throw new StoreCheckError('config', `NFS ${what} ${path} must be a normalized absolute directory.`);
  }
  return path.replace(/\/$/, '');
}

export const nfsProvider: ImageStoreProvider = {
  name: 'NFS',
  capabilities: {
    scopes: ['ZONE'],
    expiringUrls: true,
    multipartResume: true,
    serverSideCopy: true,
    reportsCapacity: true,
    partUploadUrls: false,
    hostMountable: true,
  },
  detailKeys,
  parse(input: StoreInput): StoreConfig {
    refuseUnknownDetails('NFS', input.details, detailKeys);
    const d = detailReader('NFS', input.details);
    const m = /^nfs:\/\/([^/:]+)(\/.*)$/i.exec(input.url ?? '');
    if (!m)
      throw new StoreCheckError(
        'config',
        `NFS url ${input.url ?? '(none)'} is malformed; use nfs://server/export/path.`,
      );
    const exportPath = absolutePath('export path', decodeURIComponent(m[2]!));
    const ssh = /^ssh:\/\/([^/:@]+|\[[0-9a-f:]+\])(?::(\d+))?$/i.exec(d.required('sshurl'));
    if (!ssh)
      throw new StoreCheckError(
        'config',
        'NFS detail sshurl must be ssh://address[:port] of a host that mounts the export.',
      );
    const fingerprint = d.required('hostkeyfingerprint');
    if (!FINGERPRINT_PATTERN.test(fingerprint)) {
      throw new StoreCheckError('config', 'NFS detail hostkeyfingerprint must be SHA256:<43 base64 characters>.');
    }
    return {
      settings: {
        server: m[1]!,
        exportpath: exportPath,
        sshaddress: ssh[1]!.replace(/^\[|\]$/g, ''),
        sshport: ssh[2] ?? '22',
        sshuser: d.optional('sshuser') ?? 'root',
        hostkeyfingerprint: fingerprint,
        mountpath: absolutePath('mountpath', d.optional('mountpath') ?? exportPath),
      },
      secrets: {},
      url: `nfs://${m[1]!}${exportPath}`,
      protocol: 'nfs',
    };
  },
  open: (config, storeId, services) => openNfsDriver(config, storeId, services),
};
