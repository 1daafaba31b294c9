// The Swift driver's abort keeps an upload's segments when the object at its key is a manifest over them.
import { describe, expect, it } from 'vitest';
import { manifestUsesUpload, uploadSegmentPrefix } from '../../plugins/image-stores/swift/manifest';

const key = 'template/tmpl/admin/t 1/t.qcow2';
const prefix = uploadSegmentPrefix('images_segments', key, 'u1');
const segment = (upload: string, n: number) => `/images_segments/${key}/${upload}/${String(n).padStart(8, '0')}`;

describe('manifestUsesUpload', () => {
  it("recognises a completed upload's manifest, its segment names quoted or not", () => {
    expect(manifestUsesUpload([{ name: segment('u1', 1) }, { name: segment('u1', 2) }], prefix)).toBe(true);
    expect(manifestUsesUpload([{ path: encodeURI(segment('u1', 1)) }], prefix)).toBe(true);
  });

  it('lets an abort go on for a manifest of another upload, a plain object or no object', () => {
    expect(manifestUsesUpload([{ name: segment('u2', 1) }], prefix)).toBe(false);
    expect(manifestUsesUpload([{ name: segment('u10', 1) }], uploadSegmentPrefix('images_segments', key, 'u1'))).toBe(
      false,
    );
    expect(manifestUsesUpload(undefined, prefix)).toBe(false);
    expect(manifestUsesUpload({ name: segment('u1', 1) }, prefix)).toBe(false);
  });
});
