// The command table: every API command Ferry answers. A new command = one definition + one line here.
import type { ApiCommand } from '../command';
import { listAsyncJobs, queryAsyncJobResult } from './async-jobs';
import { addCluster, listClusters } from './clusters';
import { addHost, deleteHost, listHosts } from './hosts';
import { makeListApis } from './list-apis';
import { createPod, listPods } from './pods';
import { createStoragePool, listStoragePools } from './storage-pools';
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
  queryAsyncJobResult,
  listAsyncJobs,
];
commands.push(makeListApis(() => commands));

const byName = new Map(commands.map((c) => [c.name.toLowerCase(), c]));

export function findCommand(name: string): ApiCommand | undefined {
  return byName.get(name.toLowerCase());
}

export const allCommands: readonly ApiCommand[] = commands;
