// All activities, built over injected clients. Workflows import only the type of this.
import type { Db } from '../db/client';
import type { SecretBox } from '../db/secret-box';
import type { ProviderServices } from '../plugins/image-stores/contract';
import type { SshExecutor } from '../ssh/executor';
import { createCacheLeaseActivities } from './cache-leases';
import { createCatalogueActivities } from './catalogue';
import { createHostDiskActivities } from './host-disks';
import { createHostActivities } from './hosts';
import { createStoreAccess } from './store-access';
import { createTemplateActivities } from './templates';
import { createTransferActivities } from './transfers';
import { createVolumeDiskActivities } from './volume-disks';

export interface ActivityDeps {
  db: Db;
  ssh: SshExecutor;
  secrets: SecretBox;
  storeServices: ProviderServices;
  /** Size of the parts transfers write (and resume from), and how many upload at once. */
  partSizeBytes: number;
  transferConcurrency: number;
}

export function createActivities(deps: ActivityDeps) {
  const withStore = createStoreAccess(deps.db, deps.secrets, deps.storeServices);
  return {
    ...createCatalogueActivities(deps),
    ...createHostActivities(deps),
    ...createTemplateActivities(deps),
    ...createTransferActivities({ ...deps, withStore, concurrency: deps.transferConcurrency }),
    ...createHostDiskActivities({ ...deps, withStore }),
    ...createVolumeDiskActivities({ ...deps, withStore }),
    ...createCacheLeaseActivities({ ...deps, withStore }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
