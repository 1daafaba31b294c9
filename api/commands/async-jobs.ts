import { and, desc, eq, gte, type SQL } from 'drizzle-orm';
import { asyncJobs } from '../../db/schema';
import { defineCommand, type CommandContext } from '../command';
import { ApiError, ErrorCode } from '../errors';
import { jobView } from '../jobs';
import { listParams, optional, required } from '../params';

/** Admins see every job; users only their own. */
function visibleTo(ctx: CommandContext): SQL | undefined {
  return ctx.user.role === 'Admin' ? undefined : eq(asyncJobs.userId, ctx.user.id);
}

export const queryAsyncJobResult = defineCommand({
  name: 'queryAsyncJobResult',
  description: 'Retrieves the current status of asynchronous job',
  isAsync: false,
  params: { jobid: required.uuid('the ID of the asynchronous job') },
  async handle(p, ctx) {
    const [job] = await ctx.db
      .select()
      .from(asyncJobs)
      .where(and(eq(asyncJobs.id, p.jobid), visibleTo(ctx)));
    if (!job) throw new ApiError(ErrorCode.ParamError, `Unable to find async job ${p.jobid}; check the jobid.`);
    return await jobView(ctx, job);
  },
});

export const listAsyncJobs = defineCommand({
  name: 'listAsyncJobs',
  description: 'Lists all pending asynchronous jobs for the account',
  isAsync: false,
  params: {
    startdate: optional.date("the start date of the async job (use format \"yyyy-MM-dd'T'HH:mm:ss'+'SSSS\")"),
    ...listParams,
  },
  async handle(p, ctx) {
    const where: SQL[] = [];
    const own = visibleTo(ctx);
    if (own) where.push(own);
    if (p.startdate) where.push(gte(asyncJobs.created, p.startdate));
    const size = p.pagesize ?? 100;
    const rows = await ctx.db
      .select()
      .from(asyncJobs)
      .where(and(...where))
      .orderBy(desc(asyncJobs.created))
      .limit(size)
      .offset(((p.page ?? 1) - 1) * size);
    const jobs = await Promise.all(rows.map((job) => jobView(ctx, job)));
    return { count: jobs.length, asyncjobs: jobs };
  },
});
