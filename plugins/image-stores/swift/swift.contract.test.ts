// The image-store contract against the lab's real OpenStack Swift.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSwiftContainer,
  labSwift,
  removeSwiftContainer,
  testStoreServices,
} from '../../../test/support/lab-stores';
import { imageStoreContract, patternStream, sha256Of } from '../contract-suite';
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

describe('Swift abort of an upload that completed', () => {
  it('keeps the segments a manifest at its key is made of (a stale abort, such as the doctor might send)', async () => {
    const { url, account, username, key } = labSwift();
    const config = swiftProvider.parse({ url, details: { account, username, key, container } });
    const driver = swiftProvider.open(config, randomUUID(), testStoreServices());
    const at = `stale-abort/${randomUUID()}`;
    let state = await driver.multipart.begin(at);
    state = await driver.multipart.putPart(state, 1, patternStream(1000, 11), 1000);
    state = await driver.multipart.putPart(state, 2, patternStream(500, 12), 500);
    await driver.multipart.complete(state);
    await driver.multipart.abort({ key: at, uploadId: state.uploadId, parts: [] });
    expect(await sha256Of(await driver.get(at))).toBe(
      await sha256Of(
        Readable.from([...(await chunks(patternStream(1000, 11))), ...(await chunks(patternStream(500, 12)))]),
      ),
    );
    await driver.delete(at);
  });
});

async function chunks(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of stream) out.push(c);
  return out;
}
