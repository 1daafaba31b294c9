// Parameter specs of API commands: they parse raw strings into typed values, and describe themselves for listApis.
import { isIPv4 } from 'node:net';

export type ParamType = 'uuid' | 'string' | 'integer' | 'boolean' | 'date' | 'map';

export interface ParamSpec<T = unknown, R extends boolean = boolean> {
  type: ParamType;
  required: R;
  description: string;
  /** Returns the value or throws ParamFormatError with what is expected. */
  parse(raw: string): T;
}

export class ParamFormatError extends Error {}

export type ParamSpecs = Record<string, ParamSpec>;

export type ParamValues<S extends ParamSpecs> = {
  [K in keyof S]: S[K] extends ParamSpec<infer T, infer R> ? (R extends true ? T : T | undefined) : never;
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const parsers = {
  uuid: (raw: string) => {
    if (!UUID.test(raw)) throw new ParamFormatError('a UUID');
    return raw.toLowerCase();
  },
  string: (raw: string) => {
    if (raw.length > 4096) throw new ParamFormatError('at most 4096 characters');
    return raw;
  },
  integer: (raw: string) => {
    if (!/^-?\d{1,15}$/.test(raw)) throw new ParamFormatError('an integer');
    return Number(raw);
  },
  boolean: (raw: string) => {
    const v = raw.toLowerCase();
    if (v !== 'true' && v !== 'false') throw new ParamFormatError('true or false');
    return v === 'true';
  },
  date: (raw: string) => {
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw new ParamFormatError('a date (yyyy-MM-ddTHH:mm:ssZ)');
    return new Date(t);
  },
  // The dispatcher gathers name[i].key/value (or name[i].<key>=value) into a JSON object first.
  map: (raw: string) => JSON.parse(raw) as Record<string, string>,
} satisfies Record<ParamType, (raw: string) => unknown>;

type Parsed<K extends ParamType> = ReturnType<(typeof parsers)[K]>;

function make<K extends ParamType, R extends boolean>(type: K, required: R) {
  return (description: string, check?: (v: Parsed<K>) => void): ParamSpec<Parsed<K>, R> => ({
    type,
    required,
    description,
    parse(raw) {
      const value = parsers[type](raw) as Parsed<K>;
      check?.(value);
      return value;
    },
  });
}

export const required = {
  uuid: make('uuid', true),
  string: make('string', true),
  integer: make('integer', true),
  boolean: make('boolean', true),
};

export const optional = {
  uuid: make('uuid', false),
  string: make('string', false),
  integer: make('integer', false),
  boolean: make('boolean', false),
  date: make('date', false),
  map: make('map', false),
};

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
};

/** Paging and search, common to list commands (CloudStack's BaseListCmd). */
export const listParams = {
  keyword: optional.string('List by keyword (part of the name)'),
  page: optional.integer('Page number, from 1', must.bePositive),
  pagesize: optional.integer('Number of entries per page', must.bePositive),
};
