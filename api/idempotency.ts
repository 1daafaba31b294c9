// Exactly-once requests: a command sent again with the same idempotencykey (parameter or Idempotency-Key header) by
// the same account answers what the first one answered, even when both arrive at once. The claim is one
// insert … on conflict do nothing on the key's primary key, never a read-then-insert; a job started under a key
// gets an id derived from it, so Temporal's workflow-id conflict policy guards the same promise.
import { createHash, createHmac } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { asyncJobs, idempotencyKeys, type IdempotentReply } from '../db/schema';
import type { ApiUser, ResponseBody } from './command';
import { ApiError, ErrorCode, paramError } from './errors';

/** How long a repeat waits for the first request's answer before saying it is still running. */
const WAIT_MS = 30_000;

const KEY = /^[!-~]{1,255}$/;

/** The key of a request, from its idempotencykey parameter or its Idempotency-Key header (unsigned, as headers are). */
export function idempotencyKeyOf(param: string | undefined, header: string | undefined): string | undefined {
  if (param !== undefined && header !== undefined && param !== header) {
    throw paramError('The idempotencykey parameter and the Idempotency-Key header differ; send one of them.');
  }
  const key = param ?? header;
  if (key === undefined || key === '') return undefined;
  if (!KEY.test(key)) {
    throw paramError(
      'idempotencykey must be 1 to 255 visible ASCII characters without spaces (a UUID is a good choice).',
    );
  }
  return key;
}

/** The job id of the job a keyed request starts: one per account and key, shaped as a UUID (version 8). */
export function keyedJobId(account: string, key: string): string {
  const hex = createHash('sha256').update(`ferry-job\0${account}\0${key}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Keyed (HMAC) so the stored hash says nothing about secret parameters such as a host password. */
function paramsHash(hashKey: Buffer, values: Record<string, unknown>): string {
  const canonical = (v: unknown): unknown =>
    v instanceof Date
      ? v.toISOString()
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHmac('sha256', hashKey)
    .update(`ferry-idempotency\0${JSON.stringify(canonical(values))}`)
    .digest('hex');
}

export interface KeyedRequest {
  db: Db;
  /** The key of the parameter hash (the master key). */
  hashKey: Buffer;
  user: ApiUser;
  command: string;
  key: string;
  values: Record<string, unknown>;
}

/** Runs `handle` once per account and key; repeats get the stored answer (or error) of the run that claimed it. */
export async function runOnce(req: KeyedRequest, handle: () => Promise<ResponseBody>): Promise<ResponseBody> {
  const { db, user, command, key } = req;
  const hash = paramsHash(req.hashKey, req.values);
  const row = and(eq(idempotencyKeys.account, user.account), eq(idempotencyKeys.key, key));
  const deadline = Date.now() + WAIT_MS;
  const read = async () => {
    const [seen] = await db.select().from(idempotencyKeys).where(row);
    if (seen && (seen.command !== command || seen.paramsHash !== hash)) {
      const other = seen.command === command ? 'this command with other parameters' : seen.command;
      throw paramError(`idempotencykey ${key} was already used for ${other}; send a new key for a different request.`);
    }
    return seen;
  };
  for (;;) {
    const [claimed] = await db
      .insert(idempotencyKeys)
      .values({ account: user.account, key, command, paramsHash: hash, userId: user.id })
      .onConflictDoNothing()
      .returning({ attempt: idempotencyKeys.attempt });
    if (claimed) return await runClaimed(req, claimed.attempt, handle);
    // A Failed key did nothing: the next request may claim it again, for any command and parameters.
    const [reclaimed] = await db
      .update(idempotencyKeys)
      .set({
        state: 'Running',
        attempt: sql`${idempotencyKeys.attempt} + 1`,
        command,
        paramsHash: hash,
        userId: user.id,
        reply: null,
        claimed: new Date(),
      })
      .where(and(row, eq(idempotencyKeys.state, 'Failed')))
      .returning({ attempt: idempotencyKeys.attempt });
    if (reclaimed) return await runClaimed(req, reclaimed.attempt, handle);

    let seen = await read();
    // Failed (or gone) between the claim and the read: claim it on the next turn.
    if (!seen || seen.state === 'Failed') continue;
    // A repeat of a running request waits for its answer, error included, rather than running it again.
    for (let pause = 50; seen?.state === 'Running'; pause = Math.min(pause * 2, 500)) {
      if (Date.now() > deadline) {
        throw new ApiError(
          ErrorCode.ResourceInUse,
          `The request with idempotencykey ${key} (since ${seen.claimed.toISOString()}) has not answered yet; ask ` +
            'again later. If Ferry restarted meanwhile its outcome is unknown: its job, if it started one, is ' +
            `${keyedJobId(user.account, key)} (queryAsyncJobResult); send a new key to try again.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      seen = await read();
    }
    if (seen?.reply) return replay(seen.reply);
  }
}

async function runClaimed(req: KeyedRequest, attempt: number, handle: () => Promise<ResponseBody>) {
  const { db, user, key } = req;
  const mine = and(
    eq(idempotencyKeys.account, user.account),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.attempt, attempt),
  );
  const finish = (state: 'Done' | 'Failed', reply: IdempotentReply) =>
    db.update(idempotencyKeys).set({ state, reply }).where(mine);
  let body: ResponseBody;
  try {
    body = await handle();
  } catch (err) {
    if (err instanceof ApiError) {
      // A refusal is retryable, unless the job had started before it: then the key answers this error for good.
      const [job] = await db
        .select({ id: asyncJobs.id })
        .from(asyncJobs)
        .where(eq(asyncJobs.id, keyedJobId(user.account, key)));
      await finish(job ? 'Done' : 'Failed', { error: { code: err.errorCode, text: err.message } });
    } else {
      // Whatever it did is unknown, so it is not run again: repeats get the internal error the first one got.
      await finish('Done', {
        error: { code: ErrorCode.InternalError, text: 'Ferry hit an internal error; the details are in its log.' },
      });
    }
    throw err;
  }
  await finish('Done', { body });
  return body;
}

function replay(reply: IdempotentReply): ResponseBody {
  if ('body' in reply) return reply.body;
  throw new ApiError(reply.error.code as ErrorCode, reply.error.text);
}
