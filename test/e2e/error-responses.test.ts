// Error answers as CloudStack gives them: every one carries X-Description with the error text (CloudMonkey prints
// it as its error line), the header stays one plain line whatever the caller sent, and the edges of the request
// itself (apiKey, signature, the request line) are refused with 4xx.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendRaw, sendSigned, signedParams, type RawAnswer } from '../support/signed-request';
import { stack } from '../support/stack';

const errortextOf = (res: RawAnswer) =>
  (Object.values(res.json ?? {})[0] as { errortext?: string } | undefined)?.errortext;

function expectDescribed(res: RawAnswer, status: number) {
  expect(res.status, res.text).toBe(status);
  const text = errortextOf(res);
  expect(text).toBeTruthy();
  // Plain text goes into the header unchanged.
  if (/^[\x20-\x7e]*$/.test(text!)) expect(res.headers.get('x-description')).toBe(text);
  else expect(res.headers.get('x-description')).toBeTruthy();
}

/**
 * The error line each CloudMonkey prints for an answer, built as their sources build it (neither runs in the lab:
 * 5.x is Python 2 only, 6.x a Go binary). 5.x (cloudmonkey/requester.py make_request, then writeError): "Error",
 * the status and the X-Description header, "None" if it is missing. 6.x (cmd/network.go NewAPIRequest): the body's
 * errorcode, cserrorcode and errortext.
 */
function cloudMonkeyLines(res: RawAnswer): { v5: string; v6: string } {
  const body = Object.values(res.json ?? {})[0] as Record<string, unknown> | undefined;
  const shown = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '<nil>');
  return {
    v5: `Error ${res.status}: ${res.headers.get('x-description') ?? 'None'}`,
    v6: `(HTTP ${shown(body?.errorcode)}, error code ${shown(body?.cserrorcode)}) ${shown(body?.errortext)}`,
  };
}

/** Sends one raw HTTP/1.1 request line to the API and returns the status line and headers of the answer. */
function rawHttp(requestLine: string): Promise<string> {
  const { hostname, port } = new URL(stack().apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('error responses', () => {
  it('carry X-Description with the error text: 431, 432, 401, 404, 405, 430', async () => {
    expectDescribed(await sendSigned('createPod', { name: 'x' }), 431);
    expectDescribed(await sendSigned('createPod', { name: 'x', zoneid: 'not-a-uuid' }), 431);
    expectDescribed(await sendSigned('launchRocket', {}), 432);
    expectDescribed(await sendRaw(signedParams({ command: 'listZones' }, 'not-the-secret')), 401);
    expectDescribed(await sendRaw({ command: 'listZones' }), 401);
    const wrongPath = await fetch(stack().apiUrl.replace('/client/api', '/elsewhere'));
    expect(wrongPath.status).toBe(404);
    expect(wrongPath.headers.get('x-description')).toBe('Ferry answers on /client/api');
    const wrongMethod = await fetch(stack().apiUrl, { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('x-description')).toBe('use GET or POST');
    const tooLarge = await fetch(stack().apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `command=listZones&name=${'a'.repeat(2 << 20)}`,
    });
    expect(tooLarge.status).toBe(430);
    expect(tooLarge.headers.get('x-description')).toBe('request body too large');
  });

  it("gives CloudMonkey's error line the error text, never None", async () => {
    const refusals = [
      await sendSigned('createPod', { name: 'x', zoneid: 'not-a-uuid' }),
      await sendSigned('registerTemplate', {
        name: 'x',
        format: 'QCOW2',
        hypervisor: 'KVM',
        zoneid: '-1',
        url: 'http://127.0.0.1:8888/buckets/',
      }),
      await sendSigned('launchRocket', {}),
    ];
    for (const res of refusals) {
      const text = errortextOf(res)!;
      expect(text).toBeTruthy();
      const { v5, v6 } = cloudMonkeyLines(res);
      expect(v5).toBe(`Error ${res.status}: ${text}`);
      expect(v6).toMatch(new RegExp(`^\\(HTTP ${res.status}, error code \\d+\\) `));
      expect(v6.endsWith(text)).toBe(true);
    }
  });

  it('is absent from answers that are not errors', async () => {
    const ok = await sendSigned('listZones', {});
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-description')).toBeNull();
  });

  it('keeps X-Description one line of ASCII whatever the caller sent', async () => {
    // The command name is echoed as given: CR LF in it must not end the header or start another.
    const injected = await sendSigned('launch\r\nX-Injected: yes\r\n\r\nRocket', {});
    expect(injected.status).toBe(432);
    expect(injected.headers.get('x-injected')).toBeNull();
    expect(injected.headers.get('x-description')).not.toMatch(/[\r\n]/);
    expect(injected.headers.get('x-description')).toContain('X-Injected: yes');
    // Beyond ASCII: one "?" per character, the body keeps the text.
    const unicode = await sendSigned('createZone', { name: 'zöne-東京' });
    expect(unicode.status).toBe(431);
    expect(errortextOf(unicode)).toContain('zöne-東京');
    expect(unicode.headers.get('x-description')).toContain('z?ne-??');
    expect(unicode.headers.get('x-description')).toMatch(/^[\x20-\x7e]+$/);
    // A NUL is refused as a parameter and shown escaped.
    const nul = await sendSigned('listZones', { name: 'a\u0000b' });
    expect(nul.status).toBe(431);
    expect(nul.headers.get('x-description')).toContain('\\u0000');
  });

  it('refuses lenient signatures over HTTP with 401: base64url, no padding, junk appended', async () => {
    const good = signedParams({ command: 'listZones', name: 'sig' });
    expect((await sendRaw(good)).status).toBe(200);
    const variants = [
      good.signature!.replaceAll('+', '-').replaceAll('/', '_'),
      good.signature!.replace(/=$/, ''),
      `${good.signature!}AAAA`,
    ];
    for (const signature of variants) {
      const res = await sendRaw({ ...good, signature });
      // A variant identical to the original (no "+" or "/" to change) would say nothing.
      if (signature === good.signature) continue;
      expectDescribed(res, 401);
    }
  });

  it('refuses an apiKey holding NUL or control characters with 401', async () => {
    for (const apiKey of [`${stack().apiKey}\u0000`, 'a\u0000b', 'k\r\ney', 'k'.repeat(300)]) {
      const res = await sendRaw({ command: 'listZones', apiKey, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
      expectDescribed(res, 401);
    }
  });

  it('answers a request line whose URL cannot be parsed with 400, and keeps serving', async () => {
    const answer = await rawHttp('GET http://[ HTTP/1.1');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('x-description: the request url is malformed');
    expect((await sendSigned('listZones', {})).status).toBe(200);
  });
});
