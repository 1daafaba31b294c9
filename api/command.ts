// What an API command is: a name, its parameters, whether it runs as an async job, and its handler.
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client';
import type { SecretBox } from '../db/secret-box';
import type { ProviderServices } from '../plugins/image-stores/contract';
import type { FerryConfig } from '../temporal.config';
import type { ParamSpecs, ParamValues } from './params';

export interface ApiUser {
  id: string;
  username: string;
  account: string;
  role: 'Admin' | 'User';
}

export interface CommandContext {
  db: Db;
  temporal: Client;
  config: FerryConfig;
  secrets: SecretBox;
  /** What image-store drivers need from Ferry (SSH, signed download links). */
  storeServices: ProviderServices;
  user: ApiUser;
  /** The command being run (its name as listApis gives it). */
  command: string;
  /** The request's idempotencykey: a job it starts gets the id derived from it (api/idempotency.ts). */
  idempotencyKey?: string | undefined;
}

export type ResponseBody = Record<string, unknown>;

export interface ApiCommand<S extends ParamSpecs = ParamSpecs> {
  name: string;
  description: string;
  isAsync: boolean;
  params: S;
  /** Parameters whose values are secrets: never logged, never put in a memo. */
  secretParams?: readonly (keyof S & string)[];
  handle(params: ParamValues<S>, ctx: CommandContext): Promise<ResponseBody>;
}

export function defineCommand<S extends ParamSpecs>(command: ApiCommand<S>): ApiCommand {
  return command as unknown as ApiCommand;
}
