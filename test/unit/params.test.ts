// Parameter specs refuse what a handler must never see: control characters, overlong values, malformed ids, lists,
// numbers, dates, maps and keys. (Through the HTTP API for every command: test/e2e/bad-input-sweep.test.ts.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { must, optional, ParamFormatError, required } from '../../api/params';

const refuses = (parse: () => unknown, expected: RegExp) => {
  expect(parse).toThrow(ParamFormatError);
  expect(parse).toThrow(expected);
};

const U1 = '0b7e4a4e-8d8a-4d8e-9d6c-1a2b3c4d5e6f';
const U2 = 'F2C6D7E8-1111-4222-8333-944455556666';

describe('parameter specs', () => {
  it('refuses control characters in every kind of text, and allows other Unicode', () => {
    for (const spec of [required.string('s'), optional.text('t'), optional.url('u')]) {
      for (const bad of ['a\u0000b', 'line\r\nInjected: 1', 'tab\there', '\u001b[31mred', 'del\u007f', 'c1\u0085']) {
        refuses(() => spec.parse(bad), /control characters/);
      }
      expect(spec.parse('Grüße, 東京 ✓')).toBe('Grüße, 東京 ✓');
    }
  });

  it('bounds lengths: 255 for strings, 4096 for text, 2048 for URLs', () => {
    expect(required.string('s').parse('a'.repeat(255))).toHaveLength(255);
    refuses(() => required.string('s').parse('a'.repeat(256)), /at most 255 characters/);
    expect(optional.text('t').parse('a'.repeat(4096))).toHaveLength(4096);
    refuses(() => optional.text('t').parse('a'.repeat(4097)), /at most 4096/);
    refuses(() => optional.url('u').parse(`http://x/${'a'.repeat(2048)}`), /at most 2048/);
    refuses(() => required.uuid('u').parse(`${U1}${'0'.repeat(100)}`), /a UUID/);
  });

  it('parses UUIDs and comma-separated UUID lists, lower-cased, duplicates dropped', () => {
    expect(required.uuid('u').parse(U2)).toBe(U2.toLowerCase());
    refuses(() => required.uuid('u').parse(`${U1}\u0000`), /a UUID/);
    const list = optional.uuidList('l');
    expect(list.type).toBe('list');
    expect(list.parse(`${U1},${U2}, ${U1}`)).toEqual([U1, U2.toLowerCase()]);
    for (const bad of ['not-a-uuid', `${U1},not-a-uuid`, `${U1},`, `,${U1}`, `${U1},,${U2}`, `${U1};${U2}`]) {
      refuses(() => list.parse(bad), /comma-separated UUIDs/);
    }
    refuses(() => list.parse(Array(65).fill(U1).join(',')), /at most/);
  });

  it('keeps integers Java ints, and inside the range a spec gives', () => {
    const int = optional.integer('i');
    expect(int.parse('-2147483648')).toBe(-(2 ** 31));
    expect(int.parse('2147483647')).toBe(2 ** 31 - 1);
    for (const bad of ['2147483648', '999999999999999', '99999999999999999999', '1e3', '1.5', '0x10', ' 1', '+1', '']) {
      refuses(() => int.parse(bad), /integer/);
    }
    const size = optional.integer('GB', must.beBetween(1, 1024 * 1024));
    expect(size.parse('1048576')).toBe(1048576);
    refuses(() => size.parse('1048577'), /from 1 to 1048576/);
    refuses(() => size.parse('0'), /from 1 to 1048576/);
    refuses(() => size.parse('-1'), /from 1 to 1048576/);
  });

  it('takes booleans as true or false only', () => {
    expect(optional.boolean('b').parse('TRUE')).toBe(true);
    for (const bad of ['yes', '1', 'true\u0000', 'truee'])
      refuses(() => optional.boolean('b').parse(bad), /true or false/);
  });

  it("takes CloudStack's dates and refuses impossible ones", () => {
    const date = optional.date('d');
    expect(date.parse('2026-01-02').toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(date.parse('2026-01-02T03:04:05+0000').toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(date.parse('2026-01-02T04:04:05+01:00').toISOString()).toBe('2026-01-02T03:04:05.000Z');
    for (const bad of ['tomorrow', '2026-02-31', '2026-13-01', '2026-01-01T25:00:00Z', '0000-01-01', '-271821-04-20']) {
      refuses(() => date.parse(bad), /a date/);
    }
  });

  it('bounds maps: entries, key and value lengths, no control characters', () => {
    const map = optional.map('m');
    expect(map.parse(JSON.stringify({ bucket: 'b', __proto__x: 'y' }))).toEqual({ bucket: 'b', __proto__x: 'y' });
    refuses(() => map.parse(JSON.stringify({ bucket: 'a\u0000' })), /control characters/);
    refuses(() => map.parse(JSON.stringify({ ['k'.repeat(65)]: 'v' })), /keys of at most 64/);
    refuses(() => map.parse(JSON.stringify({ k: 'v'.repeat(2049) })), /values of at most 2048/);
    refuses(
      () => map.parse(JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))),
      /at most 32 entries/,
    );
  });

  it('takes an unencrypted private key and refuses anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-keys-'));
    const keygen = (name: string, ...args: string[]) => {
      execFileSync('ssh-keygen', ['-q', '-f', join(dir, name), ...args]);
      return readFileSync(join(dir, name), 'utf8');
    };
    const spec = optional.privateKey('k');
    const ed25519 = keygen('ed', '-t', 'ed25519', '-N', '');
    const rsaPem = keygen('rsa', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '');
    const encrypted = keygen('enc', '-t', 'ed25519', '-N', 'passphrase');
    expect(spec.parse(ed25519)).toBe(ed25519);
    expect(spec.parse(rsaPem.replaceAll('\n', '\r\n'))).toContain('BEGIN RSA PRIVATE KEY');
    refuses(() => spec.parse(encrypted), /unencrypted private key.*passphrase/);
    refuses(() => spec.parse(readFileSync(join(dir, 'ed.pub'), 'utf8')), /not a public key/);
    refuses(() => spec.parse('garbage'), /unencrypted private key/);
    refuses(() => spec.parse(ed25519.slice(0, 200)), /unencrypted private key/);
    refuses(() => spec.parse(ed25519.replace('\n', '\n\u0000')), /control characters/);
    refuses(() => spec.parse('a'.repeat(16385)), /at most 16384/);
  });
});
