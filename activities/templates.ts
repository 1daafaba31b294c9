// The end of a template's life: once no copy is left anywhere, the template itself goes.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { templatePoolRefs, templates, templateStoreRefs, type StoreRefState } from '../db/schema';

export function createTemplateActivities({ db }: { db: Db }) {
  return {
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
      await db
        .update(templates)
        .set({ removed: new Date(), state: 'Inactive' })
        .where(and(eq(templates.id, templateId), eq(templates.state, 'Active')));
      return true;
    },
  };
}
