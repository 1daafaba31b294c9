// Whether an SLO manifest (as `?multipart-manifest=get` returns it) is made of one upload's segments: then the
// upload is complete, and its segments are the object's bytes, not leftovers to abort.

/** The segment prefix of an upload, as a manifest names it: `/<container>_segments/<key>/<uploadId>/`. */
export const uploadSegmentPrefix = (segments: string, key: string, uploadId: string) =>
  `/${segments}/${key}/${uploadId}/`;

/** True when any segment the manifest lists lies under the upload's prefix (names may come URL-quoted or not). */
export function manifestUsesUpload(manifest: unknown, prefix: string): boolean {
  if (!Array.isArray(manifest)) return false;
  return manifest.some((entry: unknown) => {
    const e = (entry ?? {}) as { name?: unknown; path?: unknown };
    const name = typeof e.name === 'string' ? e.name : typeof e.path === 'string' ? e.path : undefined;
    if (name === undefined) return false;
    let plain = name;
    try {
      plain = decodeURIComponent(name);
    } catch {
      // Not quoted: compare as it is.
    }
    return name.startsWith(prefix) || plain.startsWith(prefix);
  });
}
