// Helpers providers share to read their details map: unknown keys refused, required ones named, types checked.
import { StoreCheckError } from './contract';

export function refuseUnknownDetails(provider: string, details: Record<string, string>, known: readonly string[]) {
  const unknown = Object.keys(details).filter((k) => !known.includes(k.toLowerCase()));
  if (unknown.length > 0) {
    throw new StoreCheckError(
      'config',
      `${provider} image stores do not know the detail ${unknown.join(', ')}; known details: ${known.join(', ')}.`,
    );
  }
}

/** Detail lookup by lower-cased key (CloudStack clients vary the case). */
export function detailReader(provider: string, details: Record<string, string>) {
  const lower = new Map(Object.entries(details).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    optional: (key: string) => lower.get(key) || undefined,
    required(key: string): string {
      const value = lower.get(key);
      if (!value) throw new StoreCheckError('config', `${provider} image stores need the detail ${key}.`);
      return value;
    },
    boolean(key: string, fallback: boolean): boolean {
      const value = lower.get(key);
      if (value === undefined || value === '') return fallback;
      if (!/^(true|false)$/i.test(value)) throw new StoreCheckError('config', `detail ${key} must be true or false.`);
      return value.toLowerCase() === 'true';
    },
  };
}

export function parseHttpUrl(provider: string, what: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StoreCheckError('config', `${provider} ${what} ${value} is not a URL; use http(s)://host:port.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StoreCheckError('config', `${provider} ${what} ${value} must be http:// or https://.`);
  }
  if (url.username || url.password) {
    throw new StoreCheckError('config', `${provider} ${what} must not carry credentials; put them in the details.`);
  }
  return url;
}

/** Reads settings and secrets a driver relies on; parse() put them there, so absence is a bug, not user input. */
export function required<K extends string>(values: Record<string, string>, keys: readonly K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const k of keys) {
    const v = values[k];
    if (v === undefined) throw new Error(`store configuration lacks ${k}`);
    out[k] = v;
  }
  return out;
}
