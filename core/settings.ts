// Global settings an operator changes at run time (listConfigurations / updateConfiguration), with CloudStack's
// names where CloudStack has one. Each knows its default and how to check a new value.
import { cacheAllocatorChoices } from './cache-allocator-names';
import { parseSiteList } from './url-policy';

export interface SettingSpec {
  name: string;
  category: string;
  description: string;
  type: 'String' | 'Integer' | 'Boolean';
  defaultValue: string;
  /** Returns what is wrong with a value, or undefined if it is acceptable. */
  problem(value: string): string | undefined;
}

const positiveInteger = (max: number) => (value: string) =>
  /^\d{1,9}$/.test(value) && Number(value) > 0 && Number(value) <= max ? undefined : `a whole number from 1 to ${max}`;

function siteListProblem(value: string): string | undefined {
  try {
    parseSiteList(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const settingSpecs: readonly SettingSpec[] = [
  {
    name: 'secstorage.allowed.internal.download.sites',
    category: 'Advanced',
    description:
      'Internal (private, loopback or link-local) sites that user downloads (registerTemplate, uploadVolume) may ' +
      'reach: comma-separated host[:port] or CIDR[:port] (127.0.20.1/32:8099, 10.1.0.0/16, images.internal:8080). ' +
      "Ferry's own services are never fetched, whatever this says",
    type: 'String',
    defaultValue: '',
    problem: siteListProblem,
  },
  {
    name: 'secstorage.allowed.internal.store.endpoints',
    category: 'Advanced',
    description:
      'Internal (private, loopback or link-local) endpoints an image store may be added at (an S3 endpoint, a ' +
      "Swift auth URL): comma-separated host[:port] or CIDR[:port]. Ferry's API, Temporal and PostgreSQL never are",
    type: 'String',
    defaultValue: '',
    problem: siteListProblem,
  },
  {
    name: 'storage.pool.max.concurrent.migrations',
    category: 'Storage',
    description: 'How many volume migrations may copy into one primary storage pool at once',
    type: 'Integer',
    defaultValue: '2',
    problem: positiveInteger(100),
  },
  {
    name: 'snapshot.keep.on.primary',
    category: 'Snapshots',
    description: 'true: a snapshot stays on primary storage after its backup to an image store; false: removed then',
    type: 'String',
    defaultValue: 'false',
    problem: (value) => (value === 'true' || value === 'false' ? undefined : 'true or false'),
  },
  {
    name: 'extract.url.expiration.interval',
    category: 'Advanced',
    description: 'Seconds an extract (download) URL stays valid',
    type: 'Integer',
    defaultValue: '14400',
    problem: positiveInteger(7 * 24 * 3600),
  },
  {
    name: 'storage.cache.allocator',
    category: 'Storage',
    description:
      'How a cache (staging) store is chosen among those serving a placement: ' +
      cacheAllocatorChoices.map((a) => `${a.name} (${a.description})`).join('; '),
    type: 'String',
    defaultValue: 'random',
    problem: (value) =>
      cacheAllocatorChoices.some((a) => a.name === value)
        ? undefined
        : `one of ${cacheAllocatorChoices.map((a) => a.name).join(', ')}`,
  },
  {
    name: 'storage.cache.replacement.enabled',
    category: 'Storage',
    description: 'Whether the scheduled cache eviction (evictCache) expires dead leases and evicts unused objects',
    type: 'Boolean',
    defaultValue: 'true',
    problem: (value) => (value === 'true' || value === 'false' ? undefined : 'true or false'),
  },
  {
    name: 'storage.cache.replacement.interval',
    category: 'Storage',
    description:
      'Seconds between cache eviction runs (the Temporal schedule takes a new value at the next worker start)',
    type: 'Integer',
    defaultValue: '86400',
    problem: positiveInteger(30 * 24 * 3600),
  },
  {
    // CloudStack counts this one in days; Ferry uses seconds like the interval, so both read the same way.
    name: 'storage.cache.replacement.lru.interval',
    category: 'Storage',
    description: 'Seconds a Ready cache object must go unused (and unleased) before eviction may remove it',
    type: 'Integer',
    defaultValue: String(30 * 24 * 3600),
    problem: positiveInteger(365 * 24 * 3600),
  },
  {
    name: 'storage.doctor.interval',
    category: 'Storage',
    description:
      'Seconds between scheduled doctor runs (reconcileCatalogue; the Temporal schedule takes a new value at the next ' +
      'worker start)',
    type: 'Integer',
    defaultValue: '3600',
    problem: positiveInteger(30 * 24 * 3600),
  },
  {
    name: 'storage.doctor.repair',
    category: 'Storage',
    description:
      'Whether the scheduled doctor repairs (removes proven orphans, ends lying rows) or only reports what it finds ' +
      '(report-only by default: `./ferry doctor --repair` repairs on demand)',
    type: 'Boolean',
    defaultValue: 'false',
    problem: (value) => (value === 'true' || value === 'false' ? undefined : 'true or false'),
  },
  {
    name: 'storage.doctor.grace',
    category: 'Storage',
    description:
      'Seconds an orphan must have existed before the doctor removes it (younger ones may be a job starting)',
    type: 'Integer',
    defaultValue: '3600',
    problem: positiveInteger(365 * 24 * 3600),
  },
];

export function findSetting(name: string): SettingSpec | undefined {
  return settingSpecs.find((s) => s.name === name.toLowerCase());
}
