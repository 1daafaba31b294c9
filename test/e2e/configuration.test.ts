// listConfigurations / updateConfiguration through the API.
import { describe, expect, it } from 'vitest';
import { testDownloadSites } from '../support/lab-sites';
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

    const sites = '127.0.20.1/32:8099, ::1/128, [fd00::/8]:443, mirror.internal:8080, 10.0.0.7';
    const updated = await api.call('updateConfiguration', { name, value: sites });
    expect(updated).toMatchObject({ configuration: { name, value: sites } });
    expect(await api.call('listConfigurations', { name })).toMatchObject({ configuration: [{ value: sites }] });
    await api.call('updateConfiguration', { name });
    expect(await api.call('listConfigurations', { name })).toMatchObject({ configuration: [{ value: '' }] });
    // Back to what the other test files run under.
    await api.call('updateConfiguration', { name, value: testDownloadSites });
  });

  it('refuses unknown names and bad values with 431, changing nothing', async () => {
    const api = adminApi();
    const unknown = await api.request('updateConfiguration', { name: 'no.such.setting', value: '1' });
    expect(unknown.status).toBe(431);
    expect(String(unknown.body.errortext)).toContain('listConfigurations');
    for (const [setting, value] of [
      [name, '10.0.0.0/99'],
      [name, '127.0.20.1/32:99999'],
      [name, 'http://127.0.20.1:8099/'],
      ['secstorage.allowed.internal.store.endpoints', '127.0.0.1:0'],
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
