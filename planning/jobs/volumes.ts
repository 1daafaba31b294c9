// The plans of volume jobs: create (blank, or from a template or snapshot copy), upload (URL → store), extract
// (primary → store, then a URL), migrate (pool → pool, commit, then the old copy goes) and delete.
import { transition, type Plan, type PlanStep, type Transition } from '../../core/plan';
import type { Route } from '../motion-request';

export async function createVolumePlan(
  route: Route,
  v: {
    volumeId: string;
    poolId: string;
    fileName: string;
    source?: { type: 'template' | 'snapshot'; id: string; storeId: string; key: string };
  },
): Promise<Plan> {
  let steps: PlanStep[];
  let strategy: string | undefined;
  if (!v.source) {
    steps = [{ step: 'create-blank-disk', volumeId: v.volumeId, undo: { step: 'remove-pool-file-of', ...place(v) } }];
  } else {
    const motion = await route({
      ...(v.source.type === 'template'
        ? { templateId: v.source.id }
        : { object: { type: 'snapshot', id: v.source.id } }),
      from: { storeId: v.source.storeId, key: v.source.key },
      to: { poolId: v.poolId, fileName: v.fileName },
    });
    steps = motion.steps;
    strategy = motion.strategy;
  }
  return {
    summary: `create volume ${v.volumeId}${v.source ? ` from ${v.source.type} ${v.source.id}` : ''}`,
    ...(strategy ? { strategy } : {}),
    steps: [
      { step: 'transition', transitions: [transition('volume', v.volumeId, ['Allocated'], 'Creating')] },
      ...steps,
      {
        step: 'commit',
        // The disk's guest-visible size and, as the host measured it, the bytes it takes on the pool.
        transitions: [transition('volume', v.volumeId, ['Creating'], 'Ready', { record: ['size', 'physicalSize'] })],
      },
    ],
    onFailure: [transition('volume', v.volumeId, ['Allocated', 'Creating'], 'Error')],
  };
}

const place = (v: { poolId: string; fileName: string }) => ({ poolId: v.poolId, fileName: v.fileName });

export async function uploadVolumePlan(
  route: Route,
  v: { volumeId: string; url: string; refId: string; storeId: string; key: string },
): Promise<Plan> {
  const motion = await route({
    object: { type: 'volume', id: v.volumeId },
    from: { url: v.url },
    to: { storeId: v.storeId, key: v.key },
  });
  return {
    summary: `upload volume ${v.volumeId} from ${v.url}`,
    strategy: motion.strategy,
    progressRow: { kind: 'volumeStoreRef', id: v.refId },
    steps: [
      { step: 'transition', transitions: [transition('volumeStoreRef', v.refId, ['Allocated'], 'Creating')] },
      ...motion.steps,
      {
        step: 'commit',
        transitions: [
          transition('volumeStoreRef', v.refId, ['Creating'], 'Ready', { record: ['size', 'sha256'] }),
          // The volume's size is the image's guest-visible size (a qcow2's header says it; RAW: its bytes), its
          // physical size the bytes stored.
          transition('volume', v.volumeId, ['UploadOp'], 'Uploaded', {
            record: ['size', 'physicalSize'],
            recordAs: { size: 'virtualSize' },
          }),
        ],
      },
    ],
    onFailure: [
      transition('volumeStoreRef', v.refId, ['Allocated', 'Creating'], 'Failed'),
      transition('volume', v.volumeId, ['UploadOp'], 'UploadError'),
    ],
  };
}

/** A URL for the volume; a volume on primary is first copied to a store by the plan (the copy stays, Ready). */
export async function extractVolumePlan(
  route: Route,
  v: {
    volumeId: string;
    refId: string;
    storeId: string;
    key: string;
    seconds: number;
    fromPool?: { poolId: string; fileName: string };
  },
): Promise<Plan> {
  const url: PlanStep = { step: 'extract-url', storeId: v.storeId, key: v.key, seconds: v.seconds };
  if (!v.fromPool) return { summary: `extract volume ${v.volumeId}`, steps: [url], onFailure: [] };
  const motion = await route({
    object: { type: 'volume', id: v.volumeId },
    from: v.fromPool,
    to: { storeId: v.storeId, key: v.key },
  });
  return {
    summary: `extract volume ${v.volumeId} by ${motion.strategy}`,
    strategy: motion.strategy,
    progressRow: { kind: 'volumeStoreRef', id: v.refId },
    steps: [
      { step: 'transition', transitions: [transition('volumeStoreRef', v.refId, ['Allocated'], 'Creating')] },
      ...motion.steps,
      url,
      {
        step: 'commit',
        transitions: [transition('volumeStoreRef', v.refId, ['Creating'], 'Ready', { record: ['size', 'sha256'] })],
      },
    ],
    onFailure: [transition('volumeStoreRef', v.refId, ['Allocated', 'Creating'], 'Failed')],
  };
}

/**
 * plan → copy (verified inside the conversion) → commit (the volume points at its new pool, in one transaction) →
 * the old copy and any transit copy go, retried until done. Before the commit a failure or cancellation leaves the
 * volume where it was, Ready; after it, nothing is brought back.
 */
export async function migrateVolumePlan(
  route: Route,
  v: {
    volumeId: string;
    from: { poolId: string; fileName: string };
    to: { poolId: string; fileName: string; zoneId: string; format: string };
    live: boolean;
  },
): Promise<Plan> {
  const motion = await route({
    object: { type: 'volume', id: v.volumeId },
    from: v.from,
    to: { poolId: v.to.poolId, fileName: v.to.fileName },
    live: v.live,
  });
  // Removals a strategy ends with (a transit copy) are clean-up: they wait until the move is committed.
  let last = motion.steps.length;
  while (last > 0 && motion.steps[last - 1]!.step.startsWith('remove-')) last--;
  return {
    summary: `migrate volume ${v.volumeId} by ${motion.strategy}`,
    strategy: motion.strategy,
    steps: [
      ...motion.steps.slice(0, last),
      {
        step: 'commit',
        transitions: [
          // The bytes the disk takes on its new pool, as the copy there measured them.
          transition('volume', v.volumeId, ['Migrating'], 'Ready', {
            record: ['physicalSize'],
            set: {
              poolId: v.to.poolId,
              path: v.to.fileName,
              zoneId: v.to.zoneId,
              format: v.to.format,
              migratingTo: null,
            },
          }),
        ],
      },
      ...motion.steps.slice(last),
      { step: 'remove-pool-file-of', ...v.from },
    ],
    onFailure: [transition('volume', v.volumeId, ['Migrating'], 'Ready', { set: { migratingTo: null } })],
  };
}

/** What deleteVolume claims at the API, in one transaction with starting the job: the volume and its copies. */
export function deleteVolumeClaims(v: {
  volumeId: string;
  from: readonly ('Ready' | 'Error' | 'Allocated' | 'Uploaded' | 'UploadError')[];
  copies: { refId: string }[];
}): Transition[] {
  return [
    transition('volume', v.volumeId, v.from, 'Destroy'),
    ...v.copies.map((c) => transition('volumeStoreRef', c.refId, ['Ready', 'Failed'], 'Destroying')),
  ];
}

/** Runs on the rows deleteVolumeClaims claimed. */
export function deleteVolumePlan(v: {
  volumeId: string;
  onPool?: { poolId: string; fileName: string };
  copies: { refId: string; storeId: string; key: string }[];
}): Plan {
  return {
    summary: `delete volume ${v.volumeId}`,
    steps: [
      ...(v.onPool ? [{ step: 'remove-pool-file-of' as const, ...v.onPool }] : []),
      ...v.copies.map((c) => ({ step: 'remove-store-object' as const, storeId: c.storeId, key: c.key })),
      {
        step: 'commit',
        transitions: [
          transition('volume', v.volumeId, ['Destroy'], 'Expunged'),
          ...v.copies.map((c) => transition('volumeStoreRef', c.refId, ['Destroying'], 'Destroyed')),
        ],
      },
    ],
    // What could not be removed is still there: the copies say Ready again, the volume Error with the reason.
    onFailure: [
      transition('volume', v.volumeId, ['Destroy'], 'Error'),
      ...v.copies.map((c) => transition('volumeStoreRef', c.refId, ['Destroying'], 'Ready')),
    ],
  };
}
