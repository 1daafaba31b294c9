// Parameter specs of API commands: they parse raw strings into typed values, and describe themselves for listApis.
// Every rule a raw value must obey (its length, no control characters, its shape, its range) is checked here, before
// any handler runs, so nothing unvalidated reaches the database, a workflow or a host.
import { isIPv4 } from 'node:net';
// ssh2 is CommonJS: Node's ESM loader sees its `utils` only through the default export.
import ssh2, { type ParsedKey } from 'ssh2';

const sshUtils = ssh2.utils;

/** The types listApis shows: CloudStack's names. */
export type ParamType = 'uuid' | 'string' | 'integer' | 'long' | 'boolean' | 'date' | 'map' | 'list';

export interface ParamSpec<T = unknown, R extends boolean = boolean> {
  type: ParamType;
  required: R;
  description: string;
  /** The longest raw value accepted, in characters (a map: each of its values). */
  maxLength: number;
  /** Returns the value or throws ParamFormatError with what is expected. */
  parse(raw: string): T;
}

export class ParamFormatError extends Error {}

export type ParamSpecs = Record<string, ParamSpec>;

export type ParamValues<S extends ParamSpecs> = {
  [K in keyof S]: S[K] extends ParamSpec<infer T, infer R> ? (R extends true ? T : T | undefined) : never;
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** C0 controls (NUL, CR, LF, ESC, ...), DEL and C1 controls: never part of a name, an id, a URL or a filter. */
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A private key's lines: CR and LF may separate them, nothing else. */
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINES = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** CloudStack's integer parameters are Java ints. */
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** A map parameter (details[i].key/value): how many entries, how long a key. */
const MAP_ENTRIES = 32;
const MAP_KEY_LENGTH = 64;

/** copyTemplate's destzoneids and the like: at most this many ids in one list. */
const LIST_ITEMS = 64;

function withoutControls(raw: string, pattern = CONTROL): string {
  if (pattern.test(raw)) throw new ParamFormatError('text without control characters (NUL, CR, LF, ESC, ...)');
  return raw;
}

function parseUuid(raw: string): string {
  if (!UUID.test(raw)) throw new ParamFormatError('a UUID');
  return raw.toLowerCase();
}

const DATE =
  /^(?<day>(?<year>\d{4})-\d{2}-\d{2})(?:T(?<time>\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(?<zone>Z|[+-]\d{2}:?\d{2}))?$/;

const DATE_EXPECTED = "a date (yyyy-MM-dd or yyyy-MM-dd'T'HH:mm:ss+0000, from 1970)";

function parseDate(raw: string): Date {
  const g = DATE.exec(raw)?.groups;
  if (g?.day && g.year) {
    const zone = !g.zone || g.zone === 'Z' ? 'Z' : `${g.zone.slice(0, 3)}:${g.zone.slice(-2)}`;
    const t = Date.parse(`${g.day}T${g.time ?? '00:00:00'}${zone}`);
    // Date.parse rolls 2026-02-31 over to March: a day that does not survive the round trip is no day. Years
    // before 1970 are no date Ferry ever stored (and PostgreSQL has no year 0).
    const midnight = new Date(`${g.day}T00:00:00Z`);
    const real = !Number.isNaN(t) && !Number.isNaN(midnight.getTime()) && midnight.toISOString().startsWith(g.day);
    if (real && Number(g.year) >= 1970) return new Date(t);
  }
  throw new ParamFormatError(DATE_EXPECTED);
}

interface Kind<T> {
  type: ParamType;
  maxLength: number;
  /** What a too long value is told is expected (default: at most maxLength characters). */
  expected?: string;
  parse(raw: string): T;
}

const kinds = {
  uuid: { type: 'uuid', maxLength: 36, expected: 'a UUID', parse: parseUuid },
  /** Comma-separated UUIDs (spaces around the commas allowed); duplicates dropped, order kept. */
  uuidList: {
    type: 'list',
    maxLength: LIST_ITEMS * 38,
    expected: `at most ${LIST_ITEMS} comma-separated UUIDs`,
    parse: (raw: string) => {
      const items = raw.split(',').map((s) => s.trim());
      if (items.length > LIST_ITEMS) throw new ParamFormatError(`at most ${LIST_ITEMS} comma-separated UUIDs`);
      try {
        return [...new Set(items.map(parseUuid))];
      } catch {
        throw new ParamFormatError('comma-separated UUIDs');
      }
    },
  },
  /** Names, filters, keys: one line of at most 255 characters (CloudStack's default length). */
  string: { type: 'string', maxLength: 255, parse: (raw: string) => withoutControls(raw) },
  /** Descriptions and configuration values: one line, longer. */
  text: { type: 'string', maxLength: 4096, parse: (raw: string) => withoutControls(raw) },
  url: { type: 'string', maxLength: 2048, parse: (raw: string) => withoutControls(raw) },
  /** An SSH private key, parsed the way the SSH client will use it (unencrypted: Ferry has no passphrase). */
  privateKey: {
    type: 'string',
    maxLength: 16384,
    parse: (raw: string) => {
      withoutControls(raw, CONTROL_BUT_NEWLINES);
      // One key, or (for a file of several) a list: the SSH client uses the first.
      const parsed: ParsedKey | ParsedKey[] | Error = sshUtils.parseKey(raw);
      const key: ParsedKey | Error | undefined = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : parsed;
      if (key instanceof Error)
        throw new ParamFormatError(`an unencrypted private key (OpenSSH or PEM): ${key.message}`);
      if (!key?.isPrivateKey())
        throw new ParamFormatError('an unencrypted private key (OpenSSH or PEM), not a public key');
      return raw;
    },
  },
  /** A Java int unless the spec narrows it (must.beBetween). */
  integer: {
    type: 'integer',
    maxLength: 11,
    expected: `an integer from ${INT_MIN} to ${INT_MAX}`,
    parse: (raw: string) => {
      if (!/^-?\d{1,10}$/.test(raw)) throw new ParamFormatError('an integer');
      const n = Number(raw);
      if (n < INT_MIN || n > INT_MAX) throw new ParamFormatError(`an integer from ${INT_MIN} to ${INT_MAX}`);
      return n;
    },
  },
  /** A Java long, as far as a JavaScript number is exact (±2^53 − 1): byte counts. */
  long: {
    type: 'long',
    maxLength: 17,
    expected: `an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
    parse: (raw: string) => {
      if (!/^-?\d{1,16}$/.test(raw)) throw new ParamFormatError('an integer');
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) {
        throw new ParamFormatError(`an integer from ${-Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`);
      }
      return n;
    },
  },
  boolean: {
    type: 'boolean',
    maxLength: 5,
    expected: 'true or false',
    parse: (raw: string) => {
      const v = raw.toLowerCase();
      if (v !== 'true' && v !== 'false') throw new ParamFormatError('true or false');
      return v === 'true';
    },
  },
  /** yyyy-MM-dd, or yyyy-MM-dd'T'HH:mm:ss with a zone (Z, +0000, +00:00), as CloudStack's date parameters. */
  date: { type: 'date', maxLength: 29, expected: DATE_EXPECTED, parse: parseDate },
  // The dispatcher gathers name[i].key/value (or name[i].<key>=value) into a JSON object first.
  map: {
    type: 'map',
    maxLength: 2048,
    parse: (raw: string) => {
      const entries = Object.entries(JSON.parse(raw) as Record<string, string>);
      if (entries.length > MAP_ENTRIES) throw new ParamFormatError(`at most ${MAP_ENTRIES} entries`);
      for (const [key, value] of entries) {
        if (key.length > MAP_KEY_LENGTH) throw new ParamFormatError(`keys of at most ${MAP_KEY_LENGTH} characters`);
        if (value.length > 2048) throw new ParamFormatError('values of at most 2048 characters');
        withoutControls(key);
        withoutControls(value);
      }
      return Object.fromEntries(entries);
    },
  },
} satisfies Record<string, Kind<unknown>>;

type KindName = keyof typeof kinds;
type Parsed<K extends KindName> = ReturnType<(typeof kinds)[K]['parse']>;

function make<K extends KindName, R extends boolean>(kindName: K, required: R) {
  const kind: Kind<Parsed<K>> = kinds[kindName] as Kind<Parsed<K>>;
  return (description: string, check?: (v: Parsed<K>) => void): ParamSpec<Parsed<K>, R> => ({
    type: kind.type,
    required,
    description,
    maxLength: kind.maxLength,
    parse(raw) {
      // A map's length is checked per value (its raw form is the JSON the dispatcher built).
      if (kind.type !== 'map' && raw.length > kind.maxLength) {
        throw new ParamFormatError(kind.expected ?? `at most ${kind.maxLength} characters`);
      }
      const value = kind.parse(raw);
      check?.(value);
      return value;
    },
  });
}

function makeAll<R extends boolean>(required: R) {
  return {
    uuid: make('uuid', required),
    uuidList: make('uuidList', required),
    string: make('string', required),
    text: make('text', required),
    url: make('url', required),
    privateKey: make('privateKey', required),
    integer: make('integer', required),
    long: make('long', required),
    boolean: make('boolean', required),
    date: make('date', required),
    map: make('map', required),
  };
}

export const required = makeAll(true);
export const optional = makeAll(false);

/** Checks usable inside a spec: they throw ParamFormatError naming what is expected. */
export const must = {
  beName: (v: string) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) {
      throw new ParamFormatError('a name of letters, digits, dot, dash or underscore (at most 63)');
    }
  },
  beIPv4: (v: string) => {
    if (!isIPv4(v)) throw new ParamFormatError('an IPv4 address');
  },
  beOneOf:
    (...allowed: string[]) =>
    (v: string) => {
      if (!allowed.some((a) => a.toLowerCase() === v.toLowerCase())) {
        throw new ParamFormatError(`one of ${allowed.join(', ')}`);
      }
    },
  bePositive: (v: number) => {
    if (v < 1) throw new ParamFormatError('a positive integer');
  },
  beBetween: (min: number, max: number) => (v: number) => {
    if (v < min || v > max) throw new ParamFormatError(`an integer from ${min} to ${max}`);
  },
};

/** Paging and search, common to list commands (CloudStack's BaseListCmd). */
export const listParams = {
  keyword: optional.string('List by keyword (part of the name)'),
  page: optional.integer('Page number, from 1', must.bePositive),
  pagesize: optional.integer('Number of entries per page', must.bePositive),
};
