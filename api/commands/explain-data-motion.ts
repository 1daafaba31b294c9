// explainDataMotion: for an object and a destination, every strategy's rating and the plan the winner would run,
// computed by the same planning code the workflows use, without running anything.
import { and, eq, ne } from 'drizzle-orm';
import { buildMotionRequest, type MotionTarget } from '../../planning/motion-request';
import { clusters, storagePools, templateStoreRefs, volumes } from '../../db/schema';
import { hypervisorAdapter } from '../../plugins/hypervisors/registry';
import type { MotionRequest } from '../../plugins/motion/contract';
import { chooseMotion } from '../../plugins/motion/registry';
import { defineCommand } from '../command';
import { notFound, paramError } from '../errors';
import { optional } from '../params';
import { volumeFileName } from './volume-lookup';

export const explainDataMotion = defineCommand({
  name: 'explainDataMotion',
  description:
    "Explains how Ferry would move a template (to an image store or pool) or a volume (to a pool): each strategy's rating and the winner's plan",
  isAsync: false,
  params: {
    templateid: optional.uuid('the template to move'),
    volumeid: optional.uuid('the volume to move (to storageid: what migrateVolume would do)'),
    livemigrate: optional.boolean('with volumeid: the volume must move live'),
    imagestoreid: optional.uuid('a destination image store (or cache store)'),
    storageid: optional.uuid('a destination primary storage pool'),
    sourcezoneid: optional.uuid('prefer the copy of this zone as the source'),
  },
  async handle(p, { db }) {
    if (!p.templateid === !p.volumeid) throw paramError('Give exactly one object: templateid or volumeid.');
    if (p.volumeid) {
      if (!p.storageid) throw paramError('A volume moves to a primary storage pool: give storageid.');
      const [volume] = await db.select().from(volumes).where(eq(volumes.id, p.volumeid));
      if (!volume?.poolId || !volume.path) throw notFound('Volume', p.volumeid);
      const [pool] = await db
        .select({ hypervisor: clusters.hypervisor })
        .from(storagePools)
        .innerJoin(clusters, eq(clusters.id, storagePools.clusterId))
        .where(eq(storagePools.id, p.storageid));
      if (!pool) throw notFound('StoragePool', p.storageid);
      const fileName = volumeFileName(volume.id, hypervisorAdapter(pool.hypervisor).poolFormat);
      return explain(
        await buildMotionRequest(db, {
          object: { type: 'volume', id: volume.id },
          from: { poolId: volume.poolId, fileName: volume.path },
          to: { poolId: p.storageid, fileName },
          live: p.livemigrate ?? false,
        }),
      );
    }
    const templateId = p.templateid!;
    if (!p.imagestoreid === !p.storageid) throw paramError('Give exactly one destination: imagestoreid or storageid.');
    const copies = await db
      .select()
      .from(templateStoreRefs)
      .where(and(eq(templateStoreRefs.templateId, templateId), eq(templateStoreRefs.state, 'Ready')));
    const source =
      copies.find((c) => c.zoneId === (p.sourcezoneid ?? null)) ?? copies.find((c) => c.zoneId === null) ?? copies[0];
    if (!source) {
      const [any] = await db
        .select()
        .from(templateStoreRefs)
        .where(and(eq(templateStoreRefs.templateId, templateId), ne(templateStoreRefs.state, 'Destroyed')));
      if (!any) throw notFound('Template', templateId);
      throw paramError('The template has no ready copy to move from yet.');
    }
    const to: MotionTarget = p.storageid
      ? { poolId: p.storageid, fileName: `${templateId}` }
      : { storeId: p.imagestoreid!, key: source.installPath };
    return explain(await buildMotionRequest(db, { templateId, from: { storeRefId: source.id }, to }));
  },
});

function explain(request: MotionRequest) {
  const choice = chooseMotion(request);
  return {
    datamotion: {
      from: request.from,
      to: request.to,
      ratings: choice.ratings,
      strategy: choice.plan?.strategy ?? null,
      plan: choice.plan?.steps ?? [],
    },
  };
}
