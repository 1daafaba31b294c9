// listConfigurations / updateConfiguration through the API.
import { describe, expect, it } from 'vitest';
import { adminApi } from '../support/stack';

const name = 'secstorage.allowed.internal.download.sites';

describe('configuration', () => {
  it('lists settings with their defaults and changes them', async () => {
    const api = adminApi();
    const listed = await api.call('listConfigurations', { name: 'extract.url.expiration.interval' });
    expect(listed).toMatchObject({
      count: 1,
      configuration: [{ value: '14400', defaultvalue: '14400', type: 'Integer' }],
    });

    const updated = await api.call('updateConfiguration', { name, value: '127.0.0.1/32, ::1/128' });
    expect(updated).toMatchObject({ configuration: { name, value: '127.0.0.1/32, ::1/128' } });
    expect(await api.call('listConfigurations', { name })).toMatchObject({
      configuration: [{ value: '127.0.0.1/32, ::1/128' }],
    });
    await api.call('updateConfiguration', { name });
    expect(await api.call('listConfigurations', { name })).toMatchObject({ configuration: [{ value: '' }] });
  });

  it('refuses unknown names and bad values with 431, changing nothing', async () => {
    const api = adminApi();
    const unknown = await api.request('updateConfiguration', { name: 'no.such.setting', value: '1' });
    expect(unknown.status).toBe(431);
    expect(String(unknown.body.errortext)).toContain('listConfigurations');
    for (const [setting, value] of [
      [name, '10.0.0.0/99'],
      ['extract.url.expiration.interval', '-5'],
      ['extract.url.expiration.interval', 'soon'],
    ] as const) {
      const refused = await api.request('updateConfiguration', { name: setting, value });
      expect(refused.status, value).toBe(431);
    }
    expect(await api.call('listConfigurations', { name: 'extract.url.expiration.interval' })).toMatchObject({
      configuration: [{ value: '14400' }],
    });
  });
});
