import { describe, expect, it } from 'vitest';
import { snapshotKey, templateKey, volumeKey } from '../../plugins/image-stores/layout';

describe('object layout in image stores', () => {
  it('follows CloudStack: template/tmpl/<account>/<id>/, snapshots/, volumes/', () => {
    expect(templateKey('2', 'a1b2', 'disk.qcow2')).toBe('template/tmpl/2/a1b2/disk.qcow2');
    expect(snapshotKey('2', 'v9', 's1.qcow2')).toBe('snapshots/2/v9/s1.qcow2');
    expect(volumeKey('2', 'v9', 'v9.vhd')).toBe('volumes/2/v9/v9.vhd');
  });

  it('refuses segments that could escape or confuse the layout', () => {
    for (const bad of ['..', '../x', 'a/b', '', '.hidden', 'x y', 'a\0b']) {
      expect(() => templateKey('2', bad, 'f')).toThrow();
    }
  });
});
