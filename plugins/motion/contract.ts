// The data-motion contract (CloudStack's DataMotionStrategy with StrategyPriority): every strategy rates a
// (source, destination) pair; the highest rating wins, the first registered wins ties; the winner's plan is data
// (recorded in the workflow's history, shown by explainDataMotion) that the workflow then runs step by step.

export const Priority = { CANT_HANDLE: 0, DEFAULT: 1, HYPERVISOR: 2, PLUGIN: 3, HIGHEST: 4 } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];
export const priorityName = (p: Priority) => Object.entries(Priority).find(([, v]) => v === p)![0];

export type DiskFormat = 'QCOW2' | 'VHD' | 'VMDK' | 'OVA' | 'RAW' | 'ISO';

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

export type ObjectType = 'template' | 'snapshot' | 'volume';

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

/** One step of a plan: an activity and what it needs. Each step that creates something names its undo. */
export type PlanStep =
  | { step: 'download'; url: string; storeId: string; key: string; format: DiskFormat; checksum?: string }
  | { step: 'copy-within-store'; storeId: string; fromKey: string; toKey: string }
  | { step: 'stream-between-stores'; fromStoreId: string; fromKey: string; toStoreId: string; toKey: string }
  | {
      step: 'host-fetch-convert';
      hostId: string;
      /** Where the host reads the source: an expiring URL of the store, or a path it mounts. */
      source: { storeId: string; key: string } | { path: string };
      sourceFormat: DiskFormat;
      poolPath: string;
      fileName: string;
      targetFormat: DiskFormat;
      /** Compare the converted disk's guest-visible content with the source before it takes its name. */
      verify?: boolean;
    }
  /** Drops a temporary copy (a staged object on a cache store) once the steps after it are done. */
  | { step: 'remove-store-object'; storeId: string; key: string }
  /** The host uploads a file to a store through part-upload URLs (resumable, part by part). */
  | { step: 'host-push'; hostId: string; path: string; storeId: string; key: string }
  /** The host copies a file to a path it mounts (an NFS store or cache store), whole or not at all. */
  | {
      step: 'host-copy-to-path';
      hostId: string;
      fromPath: string;
      toPath: string;
      /** The store object the path is (the store mounted on the host). */
      into: { storeId: string; key: string };
    }
  /** Takes a lease on cache space for `key` (released by compensation, or by expiry if the worker dies). */
  | { step: 'reserve-cache'; storeId: string; key: string; bytes: number; objectType: ObjectType; objectId: string }
  /** Ends the lease: the object stays for reuse (templates) or is removed. */
  | { step: 'release-cache'; storeId: string; key: string; keepObject: boolean };

export interface MotionPlan {
  strategy: string;
  steps: PlanStep[];
}

export interface DataMotionStrategy {
  readonly name: string;
  readonly description: string;
  rate(request: MotionRequest): Priority;
  plan(request: MotionRequest): PlanStep[];
}
