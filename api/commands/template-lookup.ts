// Lookups the template commands share: a template, its live copies, the stores that may take a new one.
import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import { imageStores, templates, templateStoreRefs } from '../../db/schema';
import type { CommandContext } from '../command';
import { notFound } from '../errors';

export const FORMATS = ['QCOW2', 'VHD', 'VMDK', 'OVA', 'RAW', 'ISO'] as const;
export const EXTENSION: Record<string, string> = {
  QCOW2: 'qcow2',
  VHD: 'vhd',
  VMDK: 'vmdk',
  OVA: 'ova',
  RAW: 'raw',
  ISO: 'iso',
};

export async function templateById(ctx: CommandContext, id: string) {
  const [t] = await ctx.db
    .select()
    .from(templates)
    .where(and(eq(templates.id, id), isNull(templates.removed)));
  if (!t) throw notFound('Template', id);
  return t;
}

/** Writable image stores: a zone's own, or the region's. Read-only stores take no new objects. */
export async function writableStores(ctx: CommandContext, zoneId: string | null) {
  return ctx.db
    .select()
    .from(imageStores)
    .where(
      and(
        eq(imageStores.role, 'Image'),
        eq(imageStores.readonly, false),
        zoneId ? eq(imageStores.zoneId, zoneId) : eq(imageStores.scope, 'REGION'),
      ),
    )
    .orderBy(asc(imageStores.name));
}

export async function liveStoreRefs(ctx: CommandContext, templateId: string) {
  return ctx.db
    .select({ ref: templateStoreRefs, store: imageStores })
    .from(templateStoreRefs)
    .innerJoin(imageStores, eq(imageStores.id, templateStoreRefs.storeId))
    .where(and(eq(templateStoreRefs.templateId, templateId), ne(templateStoreRefs.state, 'Destroyed')));
}
