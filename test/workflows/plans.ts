// The plans the workflow tests run, built by the real plan builders (planning/jobs/) over a hand-made world: S3 and
// NFS image stores, a region store for moves between zones, a cache store, and KVM and XenServer pools. The builders'
// `route` is chooseMotion over MotionRequests made from that world, and each fixture names the strategy it expects,
// so a change of the strategy table that reroutes a fixture fails loudly instead of silently testing something else.
import type { Plan } from '../../core/plan';
import type { PlanMotionInput, Route } from '../../planning/motion-request';
import { copyTemplatePlan, deleteTemplateCopyPlan, extractPlan } from '../../planning/jobs/templates';
import { prepareTemplatePlan, registerTemplatePlan } from '../../planning/jobs/templates';
import { createVolumePlan, deleteVolumePlan, extractVolumePlan } from '../../planning/jobs/volumes';
import { migrateVolumePlan, uploadVolumePlan } from '../../planning/jobs/volumes';
import { deleteSnapshotPlan, takeSnapshotPlan } from '../../planning/jobs/snapshots';
import type {
  CacheOption,
  DiskFormat,
  MotionEndpoint,
  MotionRequest,
  ObjectType,
  PoolEndpoint,
  StoreEndpoint,
} from '../../plugins/motion/contract';
import { chooseMotion } from '../../plugins/motion/registry';

/** The plan-running workflow types (workflows/index.ts, all but addHost and evictCache). */
export type PlanWorkflow =
  | 'registerTemplate'
  | 'copyTemplate'
  | 'prepareTemplate'
  | 'deleteTemplate'
  | 'extractTemplate'
  | 'createVolume'
  | 'uploadVolume'
  | 'extractVolume'
  | 'migrateVolume'
  | 'takeSnapshot'
  | 'deleteSnapshot'
  | 'deleteVolume';

export interface PlanCase {
  /** Short and unique: it names the case's workflows. */
  slug: string;
  workflow: PlanWorkflow;
  plan: Plan;
  /** What reserveCacheSpace finds on the cache store: Ready when a staged template is reused. */
  cacheObject: 'Creating' | 'Ready';
}

const templateKey = 'template/tmpl/2/t1/t1.qcow2';

const storeIn =
  (storeId: string, storeName: string, more: Pick<StoreEndpoint, 'serverSideCopy' | 'hostPath' | 'hostUploads'>) =>
  (key: string): StoreEndpoint => ({ kind: 'image-store', storeId, storeName, key, ...more });

const stores: Record<string, (key: string) => StoreEndpoint> = {
  // S3: hosts upload through part URLs and read expiring URLs, but mount nothing.
  'store-s3': storeIn('store-s3', 's3-a', { serverSideCopy: true, hostUploads: true }),
  // NFS: hosts mount it.
  'store-nfs': storeIn('store-nfs', 'nfs-a', { serverSideCopy: true, hostPath: '/mnt/nfs-a', hostUploads: false }),
  'store-region': storeIn('store-region', 'region-s3', { serverSideCopy: true, hostUploads: true }),
};

type PoolFacts = Omit<PoolEndpoint, 'kind' | 'poolId' | 'fileName'>;
const kvm = { targetFormat: 'QCOW2', hostPullsUrls: true } as const;
const xen = { targetFormat: 'VHD', hostPullsUrls: false } as const;
const pools: Record<string, PoolFacts> = {
  // Two KVM pools of one cluster (one host sees both), a XenServer pool in another cluster of the same zone, and a
  // KVM pool in another zone.
  'pool-kvm-a': {
    poolName: 'kvm-a',
    clusterId: 'cl-kvm',
    zoneId: 'z1',
    path: '/pools/kvm-a',
    hostId: 'host-kvm-1',
    ...kvm,
  },
  'pool-kvm-b': {
    poolName: 'kvm-b',
    clusterId: 'cl-kvm',
    zoneId: 'z1',
    path: '/pools/kvm-b',
    hostId: 'host-kvm-1',
    ...kvm,
  },
  'pool-xen': {
    poolName: 'xen-a',
    clusterId: 'cl-xen',
    zoneId: 'z1',
    path: '/pools/xen-a',
    hostId: 'host-xen-1',
    ...xen,
  },
  'pool-kvm-z2': {
    poolName: 'kvm-z2',
    clusterId: 'cl-kvm-z2',
    zoneId: 'z2',
    path: '/pools/kvm-z2',
    hostId: 'host-kvm-z2',
    ...kvm,
  },
};

const storeRefs: Record<string, { storeId: string; key: string }> = {
  'tref-s3': { storeId: 'store-s3', key: templateKey },
  'tref-s3-b': { storeId: 'store-s3', key: 'template/tmpl/2/t1/t1-b.qcow2' },
  'tref-nfs': { storeId: 'store-nfs', key: templateKey },
};
const poolRefs: Record<string, { poolId: string; fileName: string }> = {
  'pref-kvm': { poolId: 'pool-kvm-a', fileName: 't1.qcow2' },
  'pref-xen': { poolId: 'pool-xen', fileName: 't1.vhd' },
};
const objects: Record<string, { format: DiskFormat; size: number; checksum?: string }> = {
  t1: {
    format: 'QCOW2',
    size: 1 << 30,
    checksum: 'sha256:0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8',
  },
  'vol-1': { format: 'QCOW2', size: 5 << 30 },
  'vol-up': { format: 'QCOW2', size: 3 << 30 },
  'vol-xen': { format: 'VHD', size: 4 << 30 },
  'snap-1': { format: 'QCOW2', size: 2 << 30 },
  'snap-xen': { format: 'VHD', size: 2 << 30 },
};

export const cache: CacheOption = { storeId: 'cache-nfs', storeName: 'cache-a', hostPath: '/mnt/cache-a' };

const lookup = <T>(table: Record<string, T>, id: string): T => {
  const found = table[id];
  if (!found) throw new Error(`fixture world has no ${id}`);
  return found;
};

const pool = (place: { poolId: string; fileName: string }): PoolEndpoint => ({
  kind: 'primary-pool',
  poolId: place.poolId,
  fileName: place.fileName,
  ...lookup(pools, place.poolId),
});
const store = (place: { storeId: string; key: string }) => lookup(stores, place.storeId)(place.key);

/** What buildMotionRequest makes of a builder's input, from this world instead of the catalogue. */
function motionRequest(
  input: PlanMotionInput,
  choices: { cache?: CacheOption; transit?: StoreEndpoint },
): MotionRequest {
  const objectType: ObjectType = input.object?.type ?? 'template';
  const objectId = input.object?.id ?? input.templateId ?? '';
  const { format, size, checksum } = lookup(objects, objectId);
  const { from: source, to: target } = input;
  const from: MotionEndpoint =
    'url' in source
      ? { kind: 'url', url: source.url }
      : 'poolId' in source
        ? pool(source)
        : store('storeRefId' in source ? lookup(storeRefs, source.storeRefId) : source);
  const to: MotionEndpoint =
    'storeRefId' in target
      ? store(lookup(storeRefs, target.storeRefId))
      : 'storeId' in target
        ? store(target)
        : pool('poolRefId' in target ? lookup(poolRefs, target.poolRefId) : target);
  return { objectType, objectId, format, size, checksum, from, to, ...choices, live: input.live };
}

/** A route that must choose `strategy` (with the cache or transit store the allocator would have offered). */
export function routeVia(strategy: string, choices: { cache?: CacheOption; transit?: StoreEndpoint } = {}): Route {
  return (input) => {
    const choice = chooseMotion(motionRequest(input, choices));
    if (choice.plan?.strategy !== strategy) {
      const ratings = choice.ratings.map((r) => `${r.strategy}: ${r.priority}`).join(', ');
      throw new Error(`fixture meant ${strategy} but ${choice.plan?.strategy ?? 'nothing'} was chosen (${ratings})`);
    }
    return Promise.resolve(choice.plan);
  };
}

/** For plans that move nothing: a builder that asks for a route is a fixture mistake. */
const noRoute: Route = () => Promise.reject(new Error('this plan should not route a motion'));

const planCase = (
  slug: string,
  workflow: PlanWorkflow,
  plan: Plan,
  cacheObject: 'Creating' | 'Ready' = 'Creating',
) => ({
  slug,
  workflow,
  plan,
  cacheObject,
});

const url = 'http://127.0.0.1:9/images/t1.qcow2';
const volumeKey = 'volumes/2/vol-1/vol-1.qcow2';

export const templateCases: PlanCase[] = [
  planCase(
    'register-url-to-s3',
    'registerTemplate',
    await registerTemplatePlan(routeVia('url-to-store'), { templateId: 't1', url, refId: 'tref-s3' }),
  ),
  planCase(
    'copy-s3-to-nfs',
    'copyTemplate',
    await copyTemplatePlan(routeVia('store-stream-copy'), {
      templateId: 't1',
      sourceRefId: 'tref-s3',
      refId: 'tref-nfs',
    }),
  ),
  planCase(
    'copy-within-s3',
    'copyTemplate',
    await copyTemplatePlan(routeVia('store-server-side-copy'), {
      templateId: 't1',
      sourceRefId: 'tref-s3',
      refId: 'tref-s3-b',
    }),
  ),
  planCase(
    'prepare-s3-to-kvm',
    'prepareTemplate',
    await prepareTemplatePlan(routeVia('store-to-pool-direct'), {
      templateId: 't1',
      sourceRefId: 'tref-s3',
      poolRefId: 'pref-kvm',
    }),
  ),
  planCase(
    'prepare-s3-to-xen-via-cache',
    'prepareTemplate',
    await prepareTemplatePlan(routeVia('store-to-pool-via-cache', { cache }), {
      templateId: 't1',
      sourceRefId: 'tref-s3',
      poolRefId: 'pref-xen',
    }),
  ),
  planCase(
    'prepare-xen-from-staged',
    'prepareTemplate',
    await prepareTemplatePlan(
      routeVia('store-to-pool-via-cache', { cache: { ...cache, cachedKey: 'cache/template/t1/t1.qcow2' } }),
      { templateId: 't1', sourceRefId: 'tref-s3', poolRefId: 'pref-xen' },
    ),
    'Ready',
  ),
  planCase(
    'delete-store-copy',
    'deleteTemplate',
    deleteTemplateCopyPlan({ kind: 'store', refId: 'tref-s3', storeId: 'store-s3', key: templateKey }),
  ),
  planCase(
    'delete-pool-copy',
    'deleteTemplate',
    deleteTemplateCopyPlan({ kind: 'pool', refId: 'pref-kvm', hostId: 'host-kvm-1', path: '/pools/kvm-a/t1.qcow2' }),
  ),
  planCase(
    'extract-template',
    'extractTemplate',
    extractPlan({ storeId: 'store-s3', key: templateKey, seconds: 3600 }),
  ),
];

export const volumeCases: PlanCase[] = [
  planCase(
    'create-blank',
    'createVolume',
    await createVolumePlan(noRoute, { volumeId: 'vol-1', poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' }),
  ),
  planCase(
    'create-from-nfs-template',
    'createVolume',
    await createVolumePlan(routeVia('store-to-pool-direct'), {
      volumeId: 'vol-1',
      poolId: 'pool-kvm-a',
      fileName: 'vol-1.qcow2',
      source: { type: 'template', id: 't1', storeId: 'store-nfs', key: templateKey },
    }),
  ),
  planCase(
    'create-xen-from-snapshot',
    'createVolume',
    await createVolumePlan(routeVia('store-to-pool-via-cache', { cache }), {
      volumeId: 'vol-xen',
      poolId: 'pool-xen',
      fileName: 'vol-xen.vhd',
      source: { type: 'snapshot', id: 'snap-xen', storeId: 'store-s3', key: 'snapshots/2/vol-9/snap-xen.vhd' },
    }),
  ),
  planCase(
    'upload-url-to-s3',
    'uploadVolume',
    await uploadVolumePlan(routeVia('url-to-store'), {
      volumeId: 'vol-up',
      url,
      refId: 'vref-up',
      storeId: 'store-s3',
      key: 'volumes/2/vol-up/vol-up.qcow2',
    }),
  ),
  planCase(
    'extract-uploaded',
    'extractVolume',
    await extractVolumePlan(noRoute, {
      volumeId: 'vol-up',
      refId: 'vref-up',
      storeId: 'store-s3',
      key: 'volumes/2/vol-up/vol-up.qcow2',
      seconds: 600,
    }),
  ),
  planCase(
    'extract-kvm-to-s3',
    'extractVolume',
    await extractVolumePlan(routeVia('pool-to-store-direct'), {
      volumeId: 'vol-1',
      refId: 'vref-1',
      storeId: 'store-s3',
      key: volumeKey,
      seconds: 600,
      fromPool: { poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' },
    }),
  ),
  planCase(
    'extract-xen-via-cache',
    'extractVolume',
    await extractVolumePlan(routeVia('pool-to-store-via-cache', { cache }), {
      volumeId: 'vol-xen',
      refId: 'vref-xen',
      storeId: 'store-s3',
      key: 'volumes/2/vol-xen/vol-xen.vhd',
      seconds: 600,
      fromPool: { poolId: 'pool-xen', fileName: 'vol-xen.vhd' },
    }),
  ),
  planCase(
    'migrate-within-cluster',
    'migrateVolume',
    await migrateVolumePlan(routeVia('hypervisor-storage-motion'), {
      volumeId: 'vol-1',
      from: { poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' },
      to: { poolId: 'pool-kvm-b', fileName: 'vol-1.qcow2', zoneId: 'z1', format: 'QCOW2' },
      live: true,
    }),
  ),
  planCase(
    'migrate-kvm-to-xen-via-cache',
    'migrateVolume',
    await migrateVolumePlan(routeVia('pool-to-pool-via-cache', { cache }), {
      volumeId: 'vol-1',
      from: { poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' },
      to: { poolId: 'pool-xen', fileName: 'vol-1.vhd', zoneId: 'z1', format: 'VHD' },
      live: false,
    }),
  ),
  planCase(
    'migrate-across-zones',
    'migrateVolume',
    await migrateVolumePlan(routeVia('pool-to-pool-via-store', { transit: stores['store-region']!('transit/vol-1') }), {
      volumeId: 'vol-1',
      from: { poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' },
      to: { poolId: 'pool-kvm-z2', fileName: 'vol-1.qcow2', zoneId: 'z2', format: 'QCOW2' },
      live: false,
    }),
  ),
  planCase(
    'delete-volume',
    'deleteVolume',
    deleteVolumePlan({
      volumeId: 'vol-1',
      onPool: { poolId: 'pool-kvm-a', fileName: 'vol-1.qcow2' },
      copies: [
        { refId: 'vref-1', storeId: 'store-s3', key: volumeKey },
        { refId: 'vref-2', storeId: 'store-nfs', key: volumeKey },
      ],
    }),
  ),
];

export const snapshotCases: PlanCase[] = [
  planCase(
    'snapshot-kvm-to-s3',
    'takeSnapshot',
    await takeSnapshotPlan(routeVia('pool-to-store-direct'), {
      snapshotId: 'snap-1',
      volume: { id: 'vol-1', poolId: 'pool-kvm-a', path: 'vol-1.qcow2' },
      pool: { path: '/pools/kvm-a', hypervisor: 'KVM' },
      refId: 'sref-1',
      storeId: 'store-s3',
      key: 'snapshots/2/vol-1/snap-1.qcow2',
      keepOnPrimary: false,
    }),
  ),
  planCase(
    'snapshot-xen-via-cache',
    'takeSnapshot',
    await takeSnapshotPlan(routeVia('pool-to-store-via-cache', { cache }), {
      snapshotId: 'snap-xen',
      volume: { id: 'vol-xen', poolId: 'pool-xen', path: 'vol-xen.vhd' },
      pool: { path: '/pools/xen-a', hypervisor: 'XenServer' },
      refId: 'sref-xen',
      storeId: 'store-s3',
      key: 'snapshots/2/vol-xen/snap-xen.vhd',
      keepOnPrimary: true,
    }),
  ),
  planCase(
    'delete-snapshot',
    'deleteSnapshot',
    deleteSnapshotPlan({
      snapshotId: 'snap-1',
      primaryHandle: 'ferry-snap-1',
      copies: [
        { refId: 'sref-1', storeId: 'store-s3', key: 'snapshots/2/vol-1/snap-1.qcow2' },
        { refId: 'sref-2', storeId: 'store-nfs', key: 'snapshots/2/vol-1/snap-1.qcow2' },
      ],
    }),
  ),
];

export const planCases: PlanCase[] = [...templateCases, ...volumeCases, ...snapshotCases];

export function planOf(slug: string): Plan {
  const found = planCases.find((c) => c.slug === slug);
  if (!found) throw new Error(`no plan case ${slug}`);
  return found.plan;
}
