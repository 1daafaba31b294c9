import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../temporal.config';

const good = {
  DATABASE_URL: 'postgres://ferry:x@127.0.0.1:5433/ferry',
  FERRY_MASTER_KEY: randomBytes(32).toString('base64'),
};

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(good);
    expect(config.api.port).toBe(8080);
    expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ferry' });
    expect(config.masterKey.length).toBe(32);
  });

  it.each([
    [{ FERRY_API_PORT: 'eighty' }, 'FERRY_API_PORT'],
    [{ FERRY_API_PORT: '70000' }, 'FERRY_API_PORT'],
    [{ FERRY_API_PORT: '-1' }, 'FERRY_API_PORT'],
    [{ TEMPORAL_ADDRESS: 'no-port' }, 'TEMPORAL_ADDRESS'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ FERRY_MASTER_KEY: 'c2hvcnQ=' }, 'FERRY_MASTER_KEY'],
    [{ FERRY_ADMIN_API_KEY: 'only-the-api-key-set' }, 'FERRY_ADMIN_SECRET_KEY'],
  ])('stops with a message naming the bad variable: %o', (override, name) => {
    expect(() => loadConfig({ ...good, ...override })).toThrow(name);
  });
});
