import { describe, expect, it } from 'vitest';
import { formatBytes, unitOf } from '../../planning/capacity';

describe('sizes in capacity refusals', () => {
  it.each([
    [0, '0 bytes'],
    [512, '512 bytes'],
    [131072, '128 KiB'],
    [458752, '448 KiB'],
    [16 * 1024 ** 2, '16 MiB'],
    [77604433920, '72.27 GiB'],
    [2 ** 50, '1048576 GiB'],
  ])('%d bytes read %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows a figure in the unit of another, so two compare at a glance', () => {
    expect(formatBytes(1024 ** 2, unitOf(16 * 1024 ** 2))).toBe('1 MiB');
    expect(formatBytes(3 * 1024 ** 2, unitOf(2 * 1024 ** 3))).toBe('0 GiB');
    expect(unitOf(1023)).toEqual({ name: 'bytes', size: 1 });
  });
});
