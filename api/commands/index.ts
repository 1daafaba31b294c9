// The command table: every API command Ferry answers. A new command = one definition + one line here.
import type { ApiCommand } from '../command';
import { listAsyncJobs, queryAsyncJobResult } from './async-jobs';
import { createSecondaryStagingStore, deleteSecondaryStagingStore, listSecondaryStagingStores } from './cache-stores';
import { addCluster, listClusters } from './clusters';
import { listConfigurations, updateConfiguration } from './configuration';
import { addS3, addSecondaryStorage, addSwift, listS3s, listSwifts } from './deprecated-image-stores';
import { addHost, deleteHost, listHosts } from './hosts';
import {
  addImageStore,
  deleteImageStore,
  enableImageStore,
  listImageStores,
  listStorageProviders,
  updateImageStore,
} from './image-stores';
import { explainDataMotion } from './explain-data-motion';
import { makeListApis } from './list-apis';
import { createPod, listPods } from './pods';
import { createStoragePool, listStoragePools } from './storage-pools';
import { copyTemplate, deleteTemplate, extractTemplate, prepareTemplate } from './template-copies';
import { listTemplates, registerTemplate } from './templates';
import { migrateVolume } from './migrate-volume';
import { createSnapshot, deleteSnapshot, listSnapshots } from './snapshots';
import { extractVolume, uploadVolume } from './volume-transfers';
import { createVolume, deleteVolume, listVolumes } from './volumes';
import { createZone, listZones } from './zones';

const commands: ApiCommand[] = [
  listZones,
  createZone,
  listPods,
  createPod,
  listClusters,
  addCluster,
  listHosts,
  addHost,
  deleteHost,
  listStoragePools,
  createStoragePool,
  addImageStore,
  listImageStores,
  updateImageStore,
  enableImageStore,
  deleteImageStore,
  listStorageProviders,
  createSecondaryStagingStore,
  listSecondaryStagingStores,
  deleteSecondaryStagingStore,
  addSecondaryStorage,
  addS3,
  addSwift,
  listS3s,
  listSwifts,
  registerTemplate,
  listTemplates,
  deleteTemplate,
  extractTemplate,
  copyTemplate,
  prepareTemplate,
  createVolume,
  listVolumes,
  deleteVolume,
  migrateVolume,
  uploadVolume,
  extractVolume,
  createSnapshot,
  listSnapshots,
  deleteSnapshot,
  explainDataMotion,
  listConfigurations,
  updateConfiguration,
  queryAsyncJobResult,
  listAsyncJobs,
];
commands.push(makeListApis(() => commands));

const byName = new Map(commands.map((c) => [c.name.toLowerCase(), c]));

export function findCommand(name: string): ApiCommand | undefined {
  return byName.get(name.toLowerCase());
}

export const allCommands: readonly ApiCommand[] = commands;
