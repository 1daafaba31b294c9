// The data-motion strategies, in registration order (first wins ties). A plugin adds a strategy with one line here.
import { Priority, priorityName, type DataMotionStrategy, type MotionPlan, type MotionRequest } from './contract';
import { hypervisorStorageMotion } from './strategies/hypervisor-storage-motion';
import { poolToPoolViaCache } from './strategies/pool-to-pool-via-cache';
import { poolToPoolViaStore } from './strategies/pool-to-pool-via-store';
import { poolToStoreDirect } from './strategies/pool-to-store-direct';
import { poolToStoreViaCache } from './strategies/pool-to-store-via-cache';
import { storeServerSideCopy } from './strategies/store-server-side-copy';
import { storeStreamCopy } from './strategies/store-stream-copy';
import { storeToPoolDirect } from './strategies/store-to-pool-direct';
import { storeToPoolViaCache } from './strategies/store-to-pool-via-cache';
import { urlToStore } from './strategies/url-to-store';
import { withUndos } from './undo';

export const motionStrategies: readonly DataMotionStrategy[] = [
  urlToStore,
  storeServerSideCopy,
  storeStreamCopy,
  storeToPoolDirect,
  storeToPoolViaCache,
  poolToStoreDirect,
  poolToStoreViaCache,
  hypervisorStorageMotion,
  poolToPoolViaCache,
  poolToPoolViaStore,
];

export interface Rating {
  strategy: string;
  priority: string;
}

export interface MotionChoice {
  ratings: Rating[];
  plan?: MotionPlan;
}

/** Asks every strategy; the highest rating wins, the first registered among equals. No winner: no plan. */
export function chooseMotion(
  request: MotionRequest,
  strategies: readonly DataMotionStrategy[] = motionStrategies,
): MotionChoice {
  let winner: DataMotionStrategy | undefined;
  let best: Priority = Priority.CANT_HANDLE;
  const ratings = strategies.map((strategy) => {
    const priority = strategy.rate(request);
    if (priority > best) {
      best = priority;
      winner = strategy;
    }
    return { strategy: strategy.name, priority: priorityName(priority) };
  });
  return { ratings, plan: winner ? { strategy: winner.name, steps: withUndos(winner.plan(request)) } : undefined };
}
