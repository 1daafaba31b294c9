// Opening an image (or cache) store's driver from its catalogue row, for the length of one piece of work.
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { imageStores } from '../db/schema';
import type { SecretBox } from '../db/secret-box';
import type { ImageStoreDriver, ProviderServices } from '../plugins/image-stores/contract';
import { openImageStore } from '../plugins/image-stores/registry';

export type WithStore = <T>(storeId: string, work: (driver: ImageStoreDriver) => Promise<T>) => Promise<T>;

export function createStoreAccess(db: Db, secrets: SecretBox, services: ProviderServices): WithStore {
  return async (storeId, work) => {
    const [store] = await db.select().from(imageStores).where(eq(imageStores.id, storeId));
    if (!store) throw new Error(`image store ${storeId} no longer exists`);
    const driver = openImageStore(store, secrets, services);
    try {
      return await work(driver);
    } finally {
      await driver.close();
    }
  };
}
