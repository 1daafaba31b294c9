// The API pipeline for one request: authenticate → find the command → parse its parameters → run → envelope.
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client';
import type { SecretBox } from '../db/secret-box';
import type { ProviderServices } from '../plugins/image-stores/contract';
import type { FerryConfig } from '../temporal.config';
import { authenticate, paramOf } from './auth';
import type { ApiCommand, ResponseBody } from './command';
import { findCommand } from './commands';
import { ApiError, ErrorCode } from './errors';
import { idempotencyKeyOf, runOnce } from './idempotency';
import { ParamFormatError } from './params';

export interface DispatcherDeps {
  db: Db;
  temporal: Client;
  config: FerryConfig;
  secrets: SecretBox;
  storeServices: ProviderServices;
  log(line: string): void;
}

export interface ApiReply {
  status: number;
  body: Record<string, unknown>;
}

/** What the HTTP layer read from the request besides its parameters. */
export interface RequestHeaders {
  idempotencyKey?: string | undefined;
}

export async function dispatch(
  deps: DispatcherDeps,
  params: ReadonlyMap<string, string>,
  headers: RequestHeaders = {},
): Promise<ApiReply> {
  const commandName = paramOf(params, 'command') ?? '';
  // Command names are plain words; anything else is only ever shown escaped (it goes into logs and headers).
  const plain = /^[A-Za-z0-9]{1,100}$/.test(commandName);
  const shownName = plain ? commandName : JSON.stringify(commandName.slice(0, 100));
  const envelope = `${plain ? commandName.toLowerCase() : 'error'}response`;
  const started = Date.now();
  let user = '-';
  let reply: ApiReply;
  try {
    if (!commandName)
      throw new ApiError(ErrorCode.ParamError, 'The request has no command parameter; add command=<api name>.');
    const caller = await authenticate(deps.db, deps.secrets, params);
    user = caller.username;
    const command = findCommand(commandName);
    if (!command) {
      throw new ApiError(
        ErrorCode.UnsupportedAction,
        `The given command ${shownName} does not exist or it is not available for user; listApis lists the commands.`,
      );
    }
    const values = parseParams(command, params);
    const key = idempotencyKeyOf(paramOf(params, 'idempotencykey'), headers.idempotencyKey);
    const run = () => command.handle(values, { ...deps, user: caller, command: command.name, idempotencyKey: key });
    const body = key
      ? await runOnce(
          { db: deps.db, hashKey: deps.config.masterKey, user: caller, command: command.name, key, values },
          run,
        )
      : await run();
    reply = { status: 200, body: { [envelope]: body } };
  } catch (err) {
    const apiError =
      err instanceof ApiError
        ? err
        : new ApiError(ErrorCode.InternalError, 'Ferry hit an internal error; the details are in its log.');
    if (!(err instanceof ApiError)) deps.log(`internal error in ${shownName}: ${(err as Error).stack ?? String(err)}`);
    reply = { status: apiError.errorCode, body: { [envelope]: apiError.body() } };
  }
  // Only the command, the user and the outcome: parameters may hold secrets.
  deps.log(`${commandName ? shownName : '-'} user=${user} status=${reply.status} ms=${Date.now() - started}`);
  return reply;
}

function parseParams(command: ApiCommand, params: ReadonlyMap<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const secret = new Set<string>(command.secretParams ?? []);
  for (const [name, spec] of Object.entries(command.params)) {
    const raw = spec.type === 'map' ? collectMap(params, name) : paramOf(params, name.toLowerCase());
    if (raw === undefined || raw === '') {
      if (spec.required) {
        throw new ApiError(
          ErrorCode.ParamError,
          `Unable to execute API command ${command.name.toLowerCase()} due to missing parameter ${name}`,
        );
      }
      continue;
    }
    try {
      values[name] = spec.parse(raw);
    } catch (err) {
      if (!(err instanceof ParamFormatError)) throw err;
      const shown = secret.has(name) ? '' : ` ${JSON.stringify(raw.slice(0, 80))}`;
      throw new ApiError(
        ErrorCode.ParamError,
        `Unable to execute API command ${command.name.toLowerCase()} due to invalid value${shown} for parameter ${name}: expected ${err.message}`,
      );
    }
  }
  return values;
}

/**
 * CloudStack maps: details[0].key=k&details[0].value=v, or details[0].k=v. Returned as JSON (undefined if absent); the
 * map spec bounds its entries, keys and values.
 */
function collectMap(params: ReadonlyMap<string, string>, name: string): string | undefined {
  const entries = new Map<string, Map<string, string>>();
  const pattern = new RegExp(`^${name}\\[(\\d{1,6})\\]\\.([A-Za-z0-9_.-]+)$`, 'i');
  for (const [k, v] of params) {
    const m = pattern.exec(k);
    if (!m) continue;
    const entry = entries.get(m[1]!) ?? new Map<string, string>();
    entry.set(m[2]!, v);
    entries.set(m[1]!, entry);
  }
  if (entries.size === 0) return undefined;
  // A Map, not an object: a key named __proto__ is just a key.
  const map = new Map<string, string>();
  for (const entry of entries.values()) {
    if (entry.has('key') && entry.has('value') && entry.size === 2) map.set(entry.get('key')!, entry.get('value')!);
    else for (const [k, v] of entry) map.set(k, v);
  }
  return JSON.stringify(Object.fromEntries(map));
}

export type { ResponseBody };
