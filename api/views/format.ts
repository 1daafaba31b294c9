/** CloudStack's date format in responses: yyyy-MM-dd'T'HH:mm:ssZ (e.g. 2026-11-26T13:10:00+0000). */
export function csDate(date: Date | null | undefined): string | undefined {
  if (!date) return undefined;
  return date.toISOString().replace(/\.\d{3}Z$/, '+0000');
}
