import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalString, parseExpires, sign, signatureMatches } from '../../api/signature';

const params = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('CloudStack request signatures', () => {
  it('builds the canonical string: sorted, Java URL-encoded (space as %20), lower-cased, without signature', () => {
    const p = params({ command: 'listZones', apiKey: 'AbC', name: 'a b*c/d', signature: 'ignored', response: 'json' });
    expect(canonicalString(p)).toBe('apikey=abc&command=listzones&name=a%20b*c%2fd&response=json');
  });

  it('agrees with the signature the unmodified Python client cs computes', () => {
    const request = {
      command: 'addHost',
      apiKey: 'Key-1',
      url: 'ssh://127.0.0.1:22',
      name: "odd name's (1)*!",
      signatureVersion: '3',
    };
    const script = [
      'import json, sys',
      'from cs.client import CloudStack',
      'd = json.loads(sys.argv[1])',
      'CloudStack(endpoint="http://x", key="k", secret="s3cr3t")._sign(d)',
      'print(d["signature"])',
    ].join('\n');
    const fromCs = execFileSync('python', ['-c', script, JSON.stringify(request)], { encoding: 'utf8' }).trim();
    expect(signatureMatches(params(request), 's3cr3t', fromCs)).toBe(true);
    expect(sign(params(request), 's3cr3t')).toBe(fromCs);
  });

  it('refuses a signature made with another secret or over other parameters', () => {
    const p = params({ command: 'listZones', apiKey: 'k', response: 'json' });
    const good = sign(p, 'secret');
    expect(signatureMatches(p, 'other', good)).toBe(false);
    expect(signatureMatches(params({ command: 'listHosts', apiKey: 'k', response: 'json' }), 'secret', good)).toBe(
      false,
    );
    expect(signatureMatches(p, 'secret', 'not base64 at all')).toBe(false);
  });

  it('accepts "~" encoded the Java way and the Python way (cs, CloudMonkey)', () => {
    const p = params({ command: 'createZone', apiKey: 'k', name: 'a~b' });
    const pythonStyle = createHmac('sha1', 's').update('apikey=k&command=createzone&name=a~b').digest('base64');
    const javaStyle = createHmac('sha1', 's').update('apikey=k&command=createzone&name=a%7eb').digest('base64');
    expect(signatureMatches(p, 's', pythonStyle)).toBe(true);
    expect(signatureMatches(p, 's', javaStyle)).toBe(true);
  });

  describe('refuses lenient forms of the right HMAC (CloudStack compares the padded standard base64 string)', () => {
    // A request whose signature has both "+" and "/" in it, so its base64url form differs from it.
    const request = (() => {
      for (let i = 0; ; i++) {
        const p = params({ command: 'listZones', apiKey: 'k', name: `zone-${i}` });
        const s = sign(p, 'secret');
        if (s.includes('+') && s.includes('/')) return { p, s };
      }
    })();
    const { p, s: good } = request;
    const lastData = good.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The 27th character carries 4 bits of the digest and 2 spare bits: flipping a spare bit decodes the same bytes.
    const spareBits = good.slice(0, -2) + alphabet[alphabet.indexOf(lastData) ^ 1]! + '=';

    it('accepts the exact form: 28 characters ending in "="', () => {
      expect(good).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      expect(signatureMatches(p, 'secret', good)).toBe(true);
    });

    it.each([
      ['base64url', good.replaceAll('+', '-').replaceAll('/', '_')],
      ['base64url without padding', good.replaceAll('+', '-').replaceAll('/', '_').replace(/=$/, '')],
      ['no padding', good.replace(/=$/, '')],
      ['junk after the padding', good + 'AAAA'],
      ['a second "="', good + '='],
      ['a trailing newline', good + '\n'],
      ['a leading space', ' ' + good],
      ['other spare bits in the last character', spareBits],
    ])('%s', (_, variant) => {
      // Each variant decodes leniently to the same 20 bytes; only the strict string compare tells them apart.
      expect(Buffer.from(variant, 'base64').equals(Buffer.from(good, 'base64'))).toBe(true);
      expect(variant).not.toBe(good);
      expect(signatureMatches(p, 'secret', variant)).toBe(false);
    });
  });

  it('parses expires with Z, +0000 and +01:00 zones and rejects dates without a zone', () => {
    expect(parseExpires('2026-11-26T13:10:00Z')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T13:10:00+0000')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T14:10:00+01:00')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T13:10:00')).toBeUndefined();
    expect(parseExpires('tomorrow')).toBeUndefined();
  });
});
