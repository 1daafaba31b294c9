// migrateVolume: move a volume to another primary pool by the best data-motion strategy. The API refuses what cannot
// work before anything changes (unknown or same pool, no route, a volume already moving, a pool at its limit), then
// claims the volume (Ready → Migrating in one conditional update, so a second migration is refused) and starts
// the workflow.
import { and, count, eq } from 'drizzle-orm';
import { buildMotionRequest } from '../../activities/motion-planning';
import { volumes } from '../../db/schema';
import { readSetting } from '../../db/settings';
import { chooseMotion } from '../../plugins/motion/registry';
import { defineCommand } from '../command';
import { ApiError, ErrorCode, paramError } from '../errors';
import { startJob } from '../jobs';
import { optional, required } from '../params';
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
    const choice = chooseMotion(
      await buildMotionRequest(ctx.db, { object: { type: 'volume', id: volume.id }, from, to, live }),
    );
    if (!choice.plan) {
      const ratings = choice.ratings.map((r) => `${r.strategy}: ${r.priority}`).join(', ');
      throw paramError(
        `No route moves volume ${volume.name} to pool ${target.pool.name}${live ? ' live' : ''} (${ratings}): ` +
          'pools of other clusters need a cache store in the zone, other zones an image store both zones reach.',
      );
    }
    const limit = Number(await readSetting(ctx.db, 'storage.pool.max.concurrent.migrations'));
    const [{ moving } = { moving: 0 }] = await ctx.db
      .select({ moving: count() })
      .from(volumes)
      .where(and(eq(volumes.state, 'Migrating'), eq(volumes.migratingTo, target.pool.id)));
    if (moving >= limit) {
      throw new ApiError(
        ErrorCode.ResourceUnavailable,
        `Pool ${target.pool.name} already receives ${moving} migrations (storage.pool.max.concurrent.migrations = ` +
          `${limit}); try again when one ends.`,
      );
    }
    const [claimed] = await ctx.db
      .update(volumes)
      .set({ state: 'Migrating', migratingTo: target.pool.id })
      .where(and(eq(volumes.id, volume.id), eq(volumes.state, 'Ready')))
      .returning({ id: volumes.id });
    if (!claimed) {
      throw new ApiError(
        ErrorCode.ResourceInUse,
        `Volume ${volume.name} is already being migrated; wait for that job.`,
      );
    }
    try {
      const jobid = await startJob(ctx, {
        workflowType: 'migrateVolume',
        args: [{ volumeId: volume.id, from, to, live, heartbeatSeconds: ctx.config.transferHeartbeatSeconds }],
        instanceType: 'Volume',
        instanceId: volume.id,
        zoneId: target.pool.zoneId,
        request: { volumeid: volume.id, storageid: target.pool.id, livemigrate: live, strategy: choice.plan.strategy },
      });
      await ctx.db.update(volumes).set({ jobId: jobid }).where(eq(volumes.id, volume.id));
      return { jobid };
    } catch (err) {
      await ctx.db
        .update(volumes)
        .set({ state: 'Ready', migratingTo: null })
        .where(and(eq(volumes.id, volume.id), eq(volumes.state, 'Migrating')));
      throw err;
    }
  },
});
