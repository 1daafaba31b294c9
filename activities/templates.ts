// Catalogue transitions of templates and their copies. Each is a single conditional update: safe to run twice.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { templatePoolRefs, templates, templateStoreRefs, type StoreRefState } from '../db/schema';
import type { MotionChoice } from '../plugins/motion/registry';
import { planMotion, type PlanMotionInput } from './motion-planning';

export function createTemplateActivities({ db }: { db: Db }) {
  return {
    planMotion: (input: PlanMotionInput): Promise<MotionChoice> => planMotion(db, input),

    async markStoreRef(input: {
      refId: string;
      state: StoreRefState;
      errorText?: string;
      size?: number;
      jobId?: string;
    }) {
      await db
        .update(templateStoreRefs)
        .set({
          state: input.state,
          errorText: input.errorText ?? null,
          ...(input.size !== undefined ? { size: input.size } : {}),
          ...(input.jobId ? { jobId: input.jobId } : {}),
          ...(input.state === 'Ready' ? { downloadPercent: 100 } : {}),
          // An upload's saved state means nothing once the copy is Ready or Failed.
          ...(input.state === 'Ready' || input.state === 'Failed' ? { transferState: null } : {}),
          updated: new Date(),
        })
        .where(eq(templateStoreRefs.id, input.refId));
    },

    async markPoolRef(input: { refId: string; state: StoreRefState; errorText?: string; size?: number }) {
      await db
        .update(templatePoolRefs)
        .set({
          state: input.state,
          errorText: input.errorText ?? null,
          ...(input.size !== undefined ? { size: input.size } : {}),
          updated: new Date(),
        })
        .where(eq(templatePoolRefs.id, input.refId));
    },

    /** Records what the bytes turned out to be: size and SHA-256 computed on the way in. */
    async recordTemplateContent(input: { templateId: string; size: number; sha256: string }) {
      await db
        .update(templates)
        .set({ size: input.size, sha256: input.sha256 })
        .where(eq(templates.id, input.templateId));
    },

    /** The end of deleteTemplate: removed once no copy is left anywhere. */
    async removeTemplateIfEmpty({ templateId }: { templateId: string }): Promise<boolean> {
      const live = ['Allocated', 'Creating', 'Ready', 'Copying', 'Destroying'] as StoreRefState[];
      const [store] = await db
        .select({ id: templateStoreRefs.id })
        .from(templateStoreRefs)
        .where(and(eq(templateStoreRefs.templateId, templateId), inArray(templateStoreRefs.state, live)));
      const [pool] = await db
        .select({ id: templatePoolRefs.id })
        .from(templatePoolRefs)
        .where(and(eq(templatePoolRefs.templateId, templateId), inArray(templatePoolRefs.state, live)));
      if (store || pool) return false;
      await db.update(templates).set({ removed: new Date(), state: 'Inactive' }).where(eq(templates.id, templateId));
      return true;
    },
  };
}
