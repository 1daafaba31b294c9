// X-Description is one header line: nothing in an error text may end it, start another, or leave ASCII.
import { describe, expect, it } from 'vitest';
import { descriptionHeader } from '../../api/errors';

describe('the X-Description header', () => {
  it('keeps plain text as it is', () => {
    expect(descriptionHeader('Unable to find Zone with id 1; check the id with listZones.')).toBe(
      'Unable to find Zone with id 1; check the id with listZones.',
    );
  });

  it('turns CR, LF, NUL, TAB and DEL into spaces, so no header can be injected', () => {
    expect(descriptionHeader('a\r\nSet-Cookie: x=1\u0000b\tc\u007fd')).toBe('a  Set-Cookie: x=1 b c d');
  });

  it('writes "?" for each character beyond ASCII, one per code point', () => {
    expect(descriptionHeader('zöne 東京 🚀')).toBe('z?ne ?? ?');
  });

  it('cuts a long text to 1024 characters', () => {
    const header = descriptionHeader('x'.repeat(5000));
    expect(header).toHaveLength(1024);
    expect(header.endsWith('...')).toBe(true);
  });
});
