import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine } from '../../ssh/quote';

describe('shell quoting of host commands', () => {
  const nasty = [
    "vol'; rm -rf / #",
    '$(touch /tmp/ferry-pwned)',
    '`id`',
    'a b\tc\nd',
    '*',
    '"${HOME}"',
    "''",
    '-n',
    '',
  ];

  it('passes every argument through a real shell unchanged and unexecuted', () => {
    const line = commandLine(['printf', '%s\\0', ...nasty]);
    const out = execFileSync('sh', ['-c', line], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(nasty);
  });

  it('refuses NUL bytes and empty commands', () => {
    expect(() => commandLine(['echo', 'a\0b'])).toThrow();
    expect(() => commandLine([])).toThrow();
  });
});
