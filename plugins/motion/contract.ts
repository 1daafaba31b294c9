// The data-motion contract (CloudStack's DataMotionStrategy with StrategyPriority): every strategy rates a
// (source, destination) pair; the highest rating wins, the first registered wins ties; the winner's plan is data
// (recorded in the workflow's history, shown by explainDataMotion) that the workflow then runs step by step.

export const Priority = { CANT_HANDLE: 0, DEFAULT: 1, HYPERVISOR: 2, PLUGIN: 3, HIGHEST: 4 } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];
export const priorityName = (p: Priority) => Object.entries(Priority).find(([, v]) => v === p)![0];

import type { DiskFormat, MotionStep, ObjectType } from '../../core/plan';

export type { DiskFormat, MotionStep, ObjectType } from '../../core/plan';

export interface UrlEndpoint {
  kind: 'url';
  url: string;
}

export interface StoreEndpoint {
  kind: 'image-store';
  storeId: string;
  storeName: string;
  key: string;
  serverSideCopy: boolean;
  /** Where hosts see the store as files (NFS), if they can. */
  hostPath?: string;
  /** Hosts can upload to it through part-upload URLs (S3, Swift) without its credentials. */
  hostUploads: boolean;
}

export interface PoolEndpoint {
  kind: 'primary-pool';
  poolId: string;
  poolName: string;
  /** Hosts of a cluster see all its pools: two pools of one cluster can be moved between by one host. */
  clusterId: string;
  zoneId: string;
  /** Directory of the pool on its hosts, and the file the object becomes there. */
  path: string;
  fileName: string;
  /** A host of the pool that is Up, which does the work. */
  hostId: string;
  targetFormat: DiskFormat;
  /** The host's hypervisor talks HTTP to object stores itself (KVM, VMware); otherwise a cache store is needed. */
  hostPullsUrls: boolean;
}

export type MotionEndpoint = UrlEndpoint | StoreEndpoint | PoolEndpoint;

/** A cache (staging) store that both Ferry and the pool's hosts can reach, as the cache allocator chose it. */
export interface CacheOption {
  storeId: string;
  storeName: string;
  hostPath: string;
  /** The object is already there, Ready (a template staged by an earlier copy): reuse it instead of staging again. */
  cachedKey?: string;
}

export interface MotionRequest {
  objectType: ObjectType;
  objectId: string;
  format: DiskFormat;
  from: MotionEndpoint;
  to: MotionEndpoint;
  cache?: CacheOption;
  /** An image store both ends reach (a region store), for moves between zones; `key` is where the object waits. */
  transit?: StoreEndpoint;
  /** The object is in use and must move live (only hypervisor storage motion can). */
  live?: boolean;
  checksum?: string;
  /** Bytes of the object where known (what a cache lease reserves). */
  size?: number;
}

export type { PlanStep } from '../../core/plan';

export interface MotionPlan {
  strategy: string;
  /** Each step that creates something carries its undo (plugins/motion/undo.ts), and its lease scope if staged. */
  steps: MotionStep[];
}

export interface DataMotionStrategy {
  readonly name: string;
  readonly description: string;
  rate(request: MotionRequest): Priority;
  plan(request: MotionRequest): MotionStep[];
}
