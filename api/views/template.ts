// How a template looks in responses (CloudStack's TemplateResponse): one entry per zone it is in (or one region-wide),
// with its download state per store.
import { and, asc, eq, inArray, isNull, max, ne } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { imageStores, templatePoolRefs, templates, templateStoreRefs } from '../../db/schema';
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

/**
 * CloudStack's size: the guest-visible size. The one the header gave when the image came in; for a template
 * registered before Ferry recorded that, a RAW or ISO image's bytes, or what a copy prepared on a pool measured.
 */
export function virtualSizeOf(t: Template, measuredOnPool?: number): number | undefined {
  if (t.virtualSize != null) return t.virtualSize;
  if ((t.format === 'RAW' || t.format === 'ISO') && t.size != null) return t.size;
  return measuredOnPool;
}

/** The checksum as CloudStack shows it: the digest the user gave, without its {ALGORITHM} prefix. */
export const shownChecksum = (checksum: string | null) =>
  checksum ? (/^\{[^}]*\}(.*)$/.exec(checksum)?.[1] ?? checksum) : undefined;

export function templateView(t: Template, refs: StoreRef[], zoneId: string | null, n: Names, measuredOnPool?: number) {
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
    checksum: shownChecksum(t.checksum),
    sha256: t.sha256 ?? undefined,
    size: virtualSizeOf(t, measuredOnPool),
    /** Bytes stored: the image as registered. */
    physicalsize: t.size ?? undefined,
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
  // What copies on pools measured (their virtual size), for templates registered before it was recorded.
  const measured = new Map(
    (
      await db
        .select({ templateId: templatePoolRefs.templateId, size: max(templatePoolRefs.size) })
        .from(templatePoolRefs)
        .where(
          and(
            inArray(
              templatePoolRefs.templateId,
              rows.map((r) => r.id),
            ),
            eq(templatePoolRefs.state, 'Ready'),
          ),
        )
        .groupBy(templatePoolRefs.templateId)
    ).map((r) => [r.templateId, r.size ?? undefined]),
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
        measured.get(t.id),
      ),
    );
  });
}
