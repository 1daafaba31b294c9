// The image-store contract against the lab's real OpenStack Swift.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import {
  createSwiftContainer,
  labSwift,
  removeSwiftContainer,
  testStoreServices,
} from '../../../test/support/lab-stores';
import { imageStoreContract } from '../contract-suite';
import { swiftProvider } from './provider';

const container = `contract-${randomUUID().slice(0, 8)}`;
beforeAll(() => createSwiftContainer(container));
afterAll(() => removeSwiftContainer(container));

imageStoreContract('Swift', () => ({
  provider: swiftProvider,
  open() {
    const { url, account, username, key } = labSwift();
    const config = swiftProvider.parse({ url, details: { account, username, key, container } });
    return Promise.resolve(swiftProvider.open(config, randomUUID(), testStoreServices()));
  },
}));
