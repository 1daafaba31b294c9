// Requests that are not signed by a known key, are expired or are malformed do nothing and get CloudStack's codes.
import { describe, expect, it } from 'vitest';
import { sign } from '../../api/signature';
import { adminApi, stack, unique } from '../support/stack';

async function raw(params: Record<string, string>) {
  const res = await fetch(`${stack().apiUrl}?${new URLSearchParams(params).toString()}`);
  return { status: res.status, body: (await res.json()) as Record<string, Record<string, unknown>> };
}

function signed(params: Record<string, string>, secret = stack().secretKey): Record<string, string> {
  const all = { ...params, apiKey: stack().apiKey, response: 'json' };
  return { ...all, signature: sign(new Map(Object.entries(all)), secret) };
}

const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, '+0000');

async function zoneExists(name: string) {
  const body = await adminApi().call('listZones', { name });
  return body.count === 1;
}

describe('API authentication', () => {
  it('answers a signed request', async () => {
    const { status, body } = await raw(signed({ command: 'listZones' }));
    expect(status).toBe(200);
    expect(body.listzonesresponse).toHaveProperty('count');
  });

  it('refuses an unsigned request with 401 and does nothing', async () => {
    const name = unique('unsigned');
    const { status, body } = await raw({ command: 'createZone', name, apiKey: stack().apiKey, response: 'json' });
    expect(status).toBe(401);
    expect(body.createzoneresponse).toMatchObject({ errorcode: 401 });
    expect(await zoneExists(name)).toBe(false);
  });

  it('refuses a wrongly signed request with 401 and does nothing', async () => {
    const name = unique('badsig');
    const { status } = await raw(signed({ command: 'createZone', name }, 'not-the-secret-key'));
    expect(status).toBe(401);
    expect(await zoneExists(name)).toBe(false);
  });

  it('refuses a request whose parameters were changed after signing', async () => {
    const name = unique('tampered');
    const request = signed({ command: 'createZone', name: unique('original') });
    const { status } = await raw({ ...request, name });
    expect(status).toBe(401);
    expect(await zoneExists(name)).toBe(false);
  });

  it('refuses an unknown apiKey with 401', async () => {
    const all = { command: 'listZones', apiKey: 'no-such-key', response: 'json' };
    const { status } = await raw({ ...all, signature: sign(new Map(Object.entries(all)), 'x') });
    expect(status).toBe(401);
  });

  it('honours signatureVersion=3: a valid expires passes, an expired or missing one is refused with 401', async () => {
    const name = unique('expired');
    expect((await raw(signed({ command: 'listZones', signatureVersion: '3', expires: isoIn(60_000) }))).status).toBe(
      200,
    );
    const expired = await raw(signed({ command: 'createZone', name, signatureVersion: '3', expires: isoIn(-1000) }));
    expect(expired.status).toBe(401);
    expect(String(expired.body.createzoneresponse?.errortext)).toContain('expired');
    expect(await zoneExists(name)).toBe(false);
    expect((await raw(signed({ command: 'listZones', signatureVersion: '3' }))).status).toBe(401);
  });

  it('answers an unknown command with 432', async () => {
    const { status, body } = await raw(signed({ command: 'launchRocket' }));
    expect(status).toBe(432);
    expect(body.launchrocketresponse).toMatchObject({ errorcode: 432 });
  });

  it('answers missing and malformed parameters with 431, naming the parameter, and changes nothing', async () => {
    const missing = await raw(signed({ command: 'createPod', name: unique('pod') }));
    expect(missing.status).toBe(431);
    expect(String(missing.body.createpodresponse?.errortext)).toContain('zoneid');
    const malformed = await raw(signed({ command: 'createPod', name: unique('pod'), zoneid: 'not-a-uuid' }));
    expect(malformed.status).toBe(431);
    expect(malformed.body.createpodresponse).toMatchObject({ errorcode: 431, cserrorcode: 4350 });
    expect(String(malformed.body.createpodresponse?.errortext)).toContain('expected a UUID');
    const badName = unique('zone') + ' ; rm -rf /';
    expect((await raw(signed({ command: 'createZone', name: badName }))).status).toBe(431);
    expect(await zoneExists(badName)).toBe(false);
  });

  it('accepts POST with a form body', async () => {
    const res = await fetch(stack().apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(signed({ command: 'listZones' })).toString(),
    });
    expect(res.status).toBe(200);
  });
});
