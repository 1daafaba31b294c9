// All activities, built over injected clients. Workflows import only the type of this.
import { CancelledFailure } from '@temporalio/activity';
import { currentActivity } from './host-session';
import type { Db } from '../db/client';
import type { SecretBox } from '../db/secret-box';
import type { ProviderServices } from '../plugins/image-stores/contract';
import type { SshExecutor } from '../ssh/executor';
import { createCacheLeaseActivities } from './cache-leases';
import { createCatalogueActivities } from './catalogue';
import { createHostDiskActivities } from './host-disks';
import { createHostActivities } from './hosts';
import { createReconcileActivities, type JobStatusReader } from './reconcile';
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
  /** Whether a job (workflow id) still runs, from Temporal: the doctor's evidence. */
  jobStatus: JobStatusReader;
  /** Ferry's own services, which no user download may reach (FerryConfig.serviceEndpoints). */
  serviceEndpoints: readonly string[];
}

export function createActivities(deps: ActivityDeps) {
  const withStore = createStoreAccess(deps.db, deps.secrets, deps.storeServices);
  return reportCancellation({
    ...createCatalogueActivities(deps),
    ...createHostActivities(deps),
    ...createTemplateActivities(deps),
    ...createTransferActivities({ ...deps, withStore, concurrency: deps.transferConcurrency }),
    ...createHostDiskActivities({ ...deps, withStore }),
    ...createVolumeDiskActivities({ ...deps, withStore }),
    ...createCacheLeaseActivities({ ...deps, withStore }),
    ...createReconcileActivities({ ...deps, withStore }),
  });
}

/**
 * An activity that stops because it was cancelled (a closed channel, an aborted stream) says so: the workflow then
 * sees a cancellation, not a failure to retry, and runs its undos knowing the work has stopped.
 */
function reportCancellation<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, run] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await run(...args);
      } catch (err) {
        const signal = currentActivity()?.cancellationSignal;
        if (signal?.aborted && !(err instanceof CancelledFailure)) {
          throw new CancelledFailure(`${name} stopped: ${String(signal.reason ?? 'cancelled')}`);
        }
        throw err;
      }
    };
  }
  return wrapped as T;
}

export type Activities = ReturnType<typeof createActivities>;
