// Async jobs on the API side: start a command's workflow (the jobid is the workflow id) and read its state back.
import { randomUUID } from 'node:crypto';
import { type WorkflowExecutionStatusName, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure, TypedSearchAttributes } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { ErrorCode, failureErrorCode, isFailureType } from '../core/failures';
import type { Plan } from '../core/plan';
import { asyncJobs, snapshotStoreRefs, templateStoreRefs, volumeStoreRefs } from '../db/schema';
import { FerryCommand, FerryObjectId, FerryObjectType, FerryZone } from '../core/search-attributes';
import { progressQuery } from '../core/progress';
import type { CommandContext } from './command';
import { ApiError } from './errors';
import { keyedJobId } from './idempotency';
import { csDate } from './views/format';
import { instanceView } from './views/instance';

export interface JobStart {
  workflowType: string;
  /** One line naming the job's objects and route, by name: the run's summary in the Temporal UI's list. */
  summary: string;
  args: unknown[];
  instanceType: string;
  instanceId: string;
  zoneId: string;
  /** The request as the user made it, secrets removed: shown in the Temporal UI. */
  request: Record<string, unknown>;
}

export async function startJob(ctx: CommandContext, job: JobStart): Promise<string> {
  // A keyed request's job has the key's id: should it ever be started twice, Temporal keeps the one run.
  const jobId = ctx.idempotencyKey ? keyedJobId(ctx.user.account, ctx.idempotencyKey) : randomUUID();
  const inserted = await ctx.db
    .insert(asyncJobs)
    .values({
      id: jobId,
      command: ctx.command,
      userId: ctx.user.id,
      instanceType: job.instanceType,
      instanceId: job.instanceId,
    })
    .onConflictDoNothing()
    .returning({ id: asyncJobs.id });
  const searchAttributes = new TypedSearchAttributes([
    { key: FerryCommand, value: ctx.command },
    { key: FerryObjectType, value: job.instanceType },
    { key: FerryObjectId, value: job.instanceId },
    { key: FerryZone, value: job.zoneId },
  ]);
  try {
    await ctx.temporal.workflow.start(job.workflowType, {
      workflowId: jobId,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      taskQueue: ctx.config.temporal.taskQueue,
      args: job.args,
      typedSearchAttributes: searchAttributes,
      memo: { request: job.request, user: ctx.user.username, ...planMemo(job.args) },
      staticSummary: job.summary,
      staticDetails: staticDetails(ctx, job),
    });
  } catch (err) {
    if (inserted.length > 0) await ctx.db.delete(asyncJobs).where(eq(asyncJobs.id, jobId));
    throw new ApiError(ErrorCode.InternalError, `could not start the job: ${(err as Error).message}`);
  }
  return jobId;
}

/** The run's details in the Temporal UI (Markdown): who asked for what, and each plan the run carries out. */
function staticDetails(ctx: CommandContext, job: JobStart): string {
  const { plans = [], strategies = [] } = planMemo(job.args);
  return [
    `**${ctx.command}** by ${ctx.user.username}: ${job.instanceType} \`${job.instanceId}\``,
    ...(strategies.length > 0 ? [`Strategy: ${[...new Set(strategies)].join(', ')}`] : []),
    ...plans.map((summary, i) => `${i + 1}. ${summary}`),
  ].join('\n\n');
}

/** What the Temporal UI shows of a job's plans without opening its input: each plan's summary and strategy. */
function planMemo(args: unknown[]): { strategies?: string[]; plans?: string[] } {
  const input = args[0] as { plan?: Plan; plans?: Plan[] } | undefined;
  const plans = input?.plans ?? (input?.plan ? [input.plan] : []);
  if (plans.length === 0) return {};
  const strategies = plans.flatMap((p) => (p.strategy ? [p.strategy] : []));
  return { plans: plans.map((p) => p.summary), ...(strategies.length > 0 ? { strategies } : {}) };
}

export type JobRow = typeof asyncJobs.$inferSelect;

/** queryAsyncJobResult's view of one job, read from Temporal. */
export async function jobView(ctx: CommandContext, job: JobRow): Promise<Record<string, unknown>> {
  const handle = ctx.temporal.workflow.getHandle(job.id);
  const base = {
    jobid: job.id,
    cmd: job.command,
    userid: job.userId,
    jobinstancetype: job.instanceType ?? undefined,
    jobinstanceid: job.instanceId ?? undefined,
    created: csDate(job.created),
  };
  let status: WorkflowExecutionStatusName;
  let closeTime: Date | undefined;
  try {
    const described = await handle.describe();
    status = described.status.name;
    closeTime = described.closeTime;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      return { ...base, ...failed(ErrorCode.InternalError, 'the job is no longer known to Temporal') };
    }
    throw err;
  }
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
    const percent = await jobProgress(ctx, job, () => handle.query(progressQuery));
    return { ...base, jobstatus: 0, jobprocstatus: percent, jobresultcode: 0 };
  }
  const completed = csDate(closeTime);
  if (status === 'COMPLETED') {
    // A workflow may answer with its own response (extractTemplate's URL); otherwise the entity as it is now.
    const result = (await handle.result()) as { response?: Record<string, unknown> } | undefined;
    const jobresult = result?.response ?? (await instanceView(ctx, job.instanceType, job.instanceId));
    return {
      ...base,
      jobstatus: 1,
      jobprocstatus: 100,
      jobresultcode: 0,
      jobresulttype: 'object',
      jobresult,
      completed,
    };
  }
  try {
    await handle.result();
    return { ...base, ...failed(ErrorCode.InternalError, `the job ended as ${status}`), completed };
  } catch (err) {
    const { code, text } = describeJobFailure(err, status);
    return { ...base, ...failed(code, text), completed };
  }
}

/** Transfers report their progress on their copies' rows; other jobs answer the workflow's progress query. */
async function jobProgress(ctx: CommandContext, job: JobRow, query: () => Promise<number>): Promise<number> {
  const refs = [
    ...(await ctx.db.select().from(templateStoreRefs).where(eq(templateStoreRefs.jobId, job.id))),
    ...(await ctx.db.select().from(snapshotStoreRefs).where(eq(snapshotStoreRefs.jobId, job.id))),
    ...(await ctx.db.select().from(volumeStoreRefs).where(eq(volumeStoreRefs.jobId, job.id))),
  ];
  if (refs.length > 0) return Math.floor(refs.reduce((sum, r) => sum + r.downloadPercent, 0) / refs.length);
  return await query().catch(() => 0);
}

function failed(code: number, text: string) {
  return {
    jobstatus: 2,
    jobprocstatus: 0,
    jobresultcode: code,
    jobresulttype: 'object',
    jobresult: { errorcode: code, errortext: text },
  };
}

function describeJobFailure(err: unknown, status: string): { code: number; text: string } {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cause instanceof TemporalFailure && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    const code = isFailureType(cause.type) ? failureErrorCode[cause.type] : ErrorCode.InternalError;
    return { code, text: cause.message };
  }
  return { code: ErrorCode.InternalError, text: `the job ended as ${status}` };
}
