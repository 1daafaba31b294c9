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

  it('parses expires with Z, +0000 and +01:00 zones and rejects dates without a zone', () => {
    expect(parseExpires('2026-11-26T13:10:00Z')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T13:10:00+0000')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T14:10:00+01:00')?.toISOString()).toBe('2026-11-26T13:10:00.000Z');
    expect(parseExpires('2026-11-26T13:10:00')).toBeUndefined();
    expect(parseExpires('tomorrow')).toBeUndefined();
  });
});
