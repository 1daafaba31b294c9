// Where objects live inside an image store, as CloudStack lays them out, so an operator finds them where expected.
// Every provider uses the same keys; only how a key maps to bytes differs.

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function segment(what: string, value: string | number): string {
  const text = String(value);
  if (!SAFE_SEGMENT.test(text)) throw new Error(`${what} ${JSON.stringify(text)} cannot be part of an object key`);
  return text;
}

/** template/tmpl/<account>/<template>/<file> */
export const templateKey = (account: string, templateId: string, file: string) =>
  `template/tmpl/${segment('account', account)}/${segment('template id', templateId)}/${segment('file name', file)}`;

/** snapshots/<account>/<volume>/<snapshot file> */
export const snapshotKey = (account: string, volumeId: string, file: string) =>
  `snapshots/${segment('account', account)}/${segment('volume id', volumeId)}/${segment('file name', file)}`;

/** volumes/<account>/<volume>/<file> */
export const volumeKey = (account: string, volumeId: string, file: string) =>
  `volumes/${segment('account', account)}/${segment('volume id', volumeId)}/${segment('file name', file)}`;
