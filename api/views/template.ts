// How a template looks in responses (CloudStack's TemplateResponse): one entry per zone it is in (or one region-wide),
// with its download state per store.
import { and, asc, eq, inArray, isNull, ne } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { imageStores, templates, templateStoreRefs } from '../../db/schema';
import { csDate } from './format';
import { loadNames, type Names } from './inventory';

type Template = typeof templates.$inferSelect;
type StoreRef = typeof templateStoreRefs.$inferSelect & { storeName: string };

function status(refs: StoreRef[]): string {
  if (refs.some((r) => r.state === 'Ready')) return 'Download Complete';
  const failed = refs.find((r) => r.state === 'Failed');
  if (failed) return `Failed: ${failed.errorText ?? 'unknown reason'}`;
  const pct = refs.length ? Math.min(...refs.map((r) => r.downloadPercent)) : 0;
  return `${pct}% Downloaded`;
}

export function templateView(t: Template, refs: StoreRef[], zoneId: string | null, n: Names) {
  return {
    id: t.id,
    name: t.name,
    displaytext: t.displayText,
    format: t.format,
    hypervisor: t.hypervisor,
    isready: refs.some((r) => r.state === 'Ready'),
    status: status(refs),
    crossZones: t.crossZones,
    zoneid: zoneId ?? undefined,
    zonename: zoneId ? n.zone.get(zoneId) : undefined,
    ispublic: t.isPublic,
    isextractable: true,
    templatetype: 'USER',
    checksum: t.checksum ?? undefined,
    sha256: t.sha256 ?? undefined,
    size: t.size ?? undefined,
    url: t.url,
    created: csDate(t.created),
    downloaddetails: refs.map((r) => ({
      datastore: r.storeName,
      downloadPercent: String(r.downloadPercent),
      downloadState: r.state,
      ...(r.errorText ? { errortext: r.errorText } : {}),
    })),
  };
}

/** Rows for listTemplates and job results: one entry per zone the template is in, or one region-wide. */
export async function templateEntries(db: Db, ids?: string[]) {
  const rows = await db
    .select()
    .from(templates)
    .where(and(isNull(templates.removed), ids ? inArray(templates.id, ids) : undefined))
    .orderBy(asc(templates.name));
  if (rows.length === 0) return [];
  const refs = await db
    .select({ ref: templateStoreRefs, storeName: imageStores.name })
    .from(templateStoreRefs)
    .innerJoin(imageStores, eq(imageStores.id, templateStoreRefs.storeId))
    .where(
      and(
        inArray(
          templateStoreRefs.templateId,
          rows.map((r) => r.id),
        ),
        ne(templateStoreRefs.state, 'Destroyed'),
      ),
    );
  const names = await loadNames(db);
  return rows.flatMap((t) => {
    const mine = refs.filter((r) => r.ref.templateId === t.id).map((r) => ({ ...r.ref, storeName: r.storeName }));
    const zones = [...new Set(mine.map((r) => r.zoneId))];
    return zones.map((zoneId) =>
      templateView(
        t,
        mine.filter((r) => r.zoneId === zoneId),
        zoneId,
        names,
      ),
    );
  });
}
