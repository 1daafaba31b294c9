// Global settings an operator changes at run time (listConfigurations / updateConfiguration), with CloudStack's
// names where CloudStack has one. Each knows its default and how to check a new value.
import { parseCidrList } from './url-policy';

export interface SettingSpec {
  name: string;
  category: string;
  description: string;
  type: 'String' | 'Integer';
  defaultValue: string;
  /** Returns what is wrong with a value, or undefined if it is acceptable. */
  problem(value: string): string | undefined;
}

const positiveInteger = (max: number) => (value: string) =>
  /^\d{1,9}$/.test(value) && Number(value) > 0 && Number(value) <= max ? undefined : `a whole number from 1 to ${max}`;

export const settingSpecs: readonly SettingSpec[] = [
  {
    name: 'secstorage.allowed.internal.download.sites',
    category: 'Advanced',
    description:
      'Comma-separated CIDRs that user downloads (registerTemplate, uploadVolume) may reach although they are ' +
      'private, loopback or link-local',
    type: 'String',
    defaultValue: '',
    problem(value) {
      try {
        parseCidrList(value);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
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
];

export function findSetting(name: string): SettingSpec | undefined {
  return settingSpecs.find((s) => s.name === name.toLowerCase());
}
