// explainDataMotion: for an object and a destination, every strategy's rating and the plan the winner would run,
// computed by the same planning code the workflows use, without running anything.
import { and, eq, ne } from 'drizzle-orm';
import { buildMotionRequest, type MotionTarget } from '../../activities/motion-planning';
import { templateStoreRefs } from '../../db/schema';
import { chooseMotion } from '../../plugins/motion/registry';
import { defineCommand } from '../command';
import { notFound, paramError } from '../errors';
import { optional, required } from '../params';

export const explainDataMotion = defineCommand({
  name: 'explainDataMotion',
  description:
    "Explains how Ferry would move a template to an image store or a primary pool: each strategy's rating and the winner's plan",
  isAsync: false,
  params: {
    templateid: required.uuid('the template to move'),
    imagestoreid: optional.uuid('a destination image store (or cache store)'),
    storageid: optional.uuid('a destination primary storage pool'),
    sourcezoneid: optional.uuid('prefer the copy of this zone as the source'),
  },
  async handle(p, { db }) {
    if (!p.imagestoreid === !p.storageid) throw paramError('Give exactly one destination: imagestoreid or storageid.');
    const copies = await db
      .select()
      .from(templateStoreRefs)
      .where(and(eq(templateStoreRefs.templateId, p.templateid), eq(templateStoreRefs.state, 'Ready')));
    const source =
      copies.find((c) => c.zoneId === (p.sourcezoneid ?? null)) ?? copies.find((c) => c.zoneId === null) ?? copies[0];
    if (!source) {
      const [any] = await db
        .select()
        .from(templateStoreRefs)
        .where(and(eq(templateStoreRefs.templateId, p.templateid), ne(templateStoreRefs.state, 'Destroyed')));
      if (!any) throw notFound('Template', p.templateid);
      throw paramError('The template has no ready copy to move from yet.');
    }
    const to: MotionTarget = p.storageid
      ? { poolId: p.storageid, fileName: `${p.templateid}` }
      : { storeId: p.imagestoreid!, key: source.installPath };
    const request = await buildMotionRequest(db, { templateId: p.templateid, from: { storeRefId: source.id }, to });
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
  },
});
