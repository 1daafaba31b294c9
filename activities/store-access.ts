// Opening an image (or cache) store's driver from its catalogue row, for the length of one piece of work.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { imageStores } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../core/failures';
import { StoreCheckError, type ImageStoreDriver, type ProviderServices } from '../plugins/image-stores/contract';
import { openImageStore } from '../plugins/image-stores/registry';
import { HostKeyMismatchError } from '../ssh/errors';

/** Store failures no retry can fix (refused credentials, a missing container, a changed host key) end the step. */
function asFinal(err: unknown, storeName: string): unknown {
  if (err instanceof StoreCheckError && err.kind !== 'unreachable') {
    return ApplicationFailure.nonRetryable(`image store ${storeName}: ${err.message}`, FailureType.StoreUnavailable);
  }
  if (err instanceof HostKeyMismatchError) {
    return ApplicationFailure.nonRetryable(`image store ${storeName}: ${err.message}`, FailureType.HostKeyMismatch);
  }
  return err;
}

export type WithStore = <T>(storeId: string, work: (driver: ImageStoreDriver) => Promise<T>) => Promise<T>;

export function createStoreAccess(db: Db, secrets: SecretBox, services: ProviderServices): WithStore {
  return async (storeId, work) => {
    const [store] = await db.select().from(imageStores).where(eq(imageStores.id, storeId));
    if (!store) throw new Error(`image store ${storeId} no longer exists`);
    const driver = openImageStore(store, secrets, services);
    try {
      return await work(driver);
    } catch (err) {
      throw asFinal(err, store.name);
    } finally {
      await driver.close();
    }
  };
}
