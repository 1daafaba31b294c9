// migrateVolume: move a volume to another primary pool by the best data-motion strategy. The API plans the move
// (refusing what cannot work before anything changes: unknown or same pool, no route), then in one transaction claims
// the volume within the pool's limit (Ready → Migrating in one conditional update) and starts the job with the plan.
import { and, count, eq, sql } from 'drizzle-orm';
import { storagePools, volumes } from '../../db/schema';
import { migrateVolumePlan } from '../../planning/jobs/volumes';
import { readSetting } from '../../db/settings';
import { defineCommand } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { routeIn } from '../../planning/motion-request';
import { planned } from '../planned';
import { FailureType } from '../../core/failures';
import { PlanRefused } from '../../planning/refusal';
import { optional, required } from '../params';
import { requirePoolSpace } from './capacity-checks';
import { poolWithHost, volumeById, volumeFileName } from './volume-lookup';

export const migrateVolume = defineCommand({
  name: 'migrateVolume',
  description: 'Migrates a volume to another primary storage pool (same cluster, another cluster or another zone)',
  isAsync: true,
  params: {
    volumeid: required.uuid('the ID of the volume'),
    storageid: required.uuid('the destination primary storage pool'),
    livemigrate: optional.boolean('true if the volume is in use and must move live (hypervisor storage motion only)'),
  },
  async handle(p, ctx) {
    const volume = await volumeById(ctx, p.volumeid);
    if (volume.state === 'Migrating') {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Volume ${volume.name} is already being migrated; wait for that job.`,
      );
    }
    if (volume.state !== 'Ready' || !volume.poolId || !volume.path) {
      throw paramError(`Volume ${volume.name} is ${volume.state}; only a Ready volume on primary storage can migrate.`);
    }
    if (volume.poolId === p.storageid) throw paramError(`Volume ${volume.name} is already on that storage pool.`);
    const target = await poolWithHost(ctx, p.storageid);
    await poolWithHost(ctx, volume.poolId);
    const from = { poolId: volume.poolId, fileName: volume.path };
    const to = { poolId: target.pool.id, fileName: volumeFileName(volume.id, target.adapter.poolFormat) };
    const live = p.livemigrate ?? false;
    const plan = await planned(() =>
      migrateVolumePlan(routeIn(ctx.db), {
        volumeId: volume.id,
        from,
        to: { ...to, zoneId: target.pool.zoneId, format: target.adapter.poolFormat },
        live,
      }).catch((err: unknown) => {
        if (!(err instanceof PlanRefused) || err.type !== FailureType.NoMotionPlan) throw err;
        throw paramError(
          `No route moves volume ${volume.name} to pool ${target.pool.name}${live ? ' live' : ''} (${err.message}): ` +
            'pools of other clusters need a cache store in the zone, other zones an image store both zones reach.',
        );
      }),
    );
    await requirePoolSpace(ctx, target.pool, volume.size ?? 0, 'the volume');
    const limit = Number(await readSetting(ctx.db, 'storage.pool.max.concurrent.migrations'));
    const jobid = await ctx.db.transaction(async (tx) => {
      // The claim and the pool's limit in one statement, with the pool's row locked so that two claims into one
      // pool are decided one after the other.
      await tx
        .select({ id: storagePools.id })
        .from(storagePools)
        .where(eq(storagePools.id, target.pool.id))
        .for('update');
      const moving = tx
        .select({ n: count() })
        .from(volumes)
        .where(and(eq(volumes.state, 'Migrating'), eq(volumes.migratingTo, target.pool.id)));
      const [claimed] = await tx
        .update(volumes)
        .set({ state: 'Migrating', migratingTo: target.pool.id })
        .where(and(eq(volumes.id, volume.id), eq(volumes.state, 'Ready'), sql`(${moving}) < ${limit}`))
        .returning({ id: volumes.id });
      if (!claimed) {
        const [now] = await tx.select({ state: volumes.state }).from(volumes).where(eq(volumes.id, volume.id));
        if (now?.state !== 'Ready') {
          throw new ApiError(
            ErrorCode.ResourceInUse,
            `Volume ${volume.name} is already being migrated; wait for that job.`,
          );
        }
        throw new ApiError(
          ErrorCode.ResourceUnavailable,
          `Pool ${target.pool.name} already receives ${limit} migrations (storage.pool.max.concurrent.migrations = ` +
            `${limit}); try again when one ends.`,
        );
      }
      return await startJob(
        { ...ctx, db: tx },
        {
          workflowType: 'migrateVolume',
          summary: `migrateVolume ${volume.name} → ${target.pool.name}${plan.strategy ? ` by ${plan.strategy}` : ''}`,
          args: [{ plan, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
          instanceType: 'Volume',
          instanceId: volume.id,
          zoneId: target.pool.zoneId,
          request: { volumeid: volume.id, storageid: target.pool.id, livemigrate: live, strategy: plan.strategy },
        },
      );
    });
    return { jobid };
  },
});
