// How a template looks in responses (CloudStack's TemplateResponse): one entry per zone it is in (or one region-wide),
// with its download state per store.
import type { templates, templateStoreRefs } from '../../db/schema';
import { csDate } from './format';
import type { Names } from './inventory';

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
