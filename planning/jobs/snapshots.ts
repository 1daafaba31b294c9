// The plans of snapshot jobs. takeSnapshot: on primary through the volume's host (CreatedOnPrimary), exported as
// one file, backed up by the data-motion plan (BackingUp), committed (the copy Ready, the snapshot BackedUp); only
// then are the export and, unless kept, the snapshot on primary removed — a failure there never touches the backup.
import { posix } from 'node:path';
import { transition, type Plan, type PlanStep, type Transition } from '../../core/plan';
import { hypervisorAdapter } from '../../plugins/hypervisors/registry';
import type { Route } from '../motion-request';

export async function takeSnapshotPlan(
  route: Route,
  s: {
    snapshotId: string;
    volume: { id: string; poolId: string; path: string };
    /** The volume's pool directory on its hosts and its cluster's hypervisor. */
    pool: { path: string; hypervisor: string };
    refId: string;
    storeId: string;
    key: string;
    keepOnPrimary: boolean;
  },
): Promise<Plan> {
  const adapter = hypervisorAdapter(s.pool.hypervisor);
  const volumePath = posix.join(s.pool.path, s.volume.path);
  // The adapter names the snapshot and its exported file from ids, so the plan knows both before anything runs.
  const { handle } = adapter.disks.snapshot(volumePath, s.snapshotId);
  const file = adapter.disks.exportSnapshot(volumePath, handle, s.snapshotId);
  const fileName = posix.basename(file.path);
  const motion = await route({
    object: { type: 'snapshot', id: s.snapshotId },
    from: { poolId: s.volume.poolId, fileName },
    to: { storeId: s.storeId, key: s.key },
  });
  const onPrimary = { step: 'remove-snapshot-on-primary', snapshotId: s.snapshotId, handle } as const;
  const exported = { step: 'remove-snapshot-export', snapshotId: s.snapshotId, fileName } as const;
  const cleanup: PlanStep[] = [
    ...(file.temporary ? [exported] : []),
    ...(s.keepOnPrimary
      ? []
      : [
          onPrimary,
          {
            step: 'transition' as const,
            transitions: [
              transition('snapshot', s.snapshotId, ['BackedUp'], 'BackedUp', { set: { primaryHandle: null } }),
            ],
          },
        ]),
  ];
  return {
    summary: `snapshot volume ${s.volume.id} and back it up by ${motion.strategy}`,
    strategy: motion.strategy,
    progressRow: { kind: 'snapshotStoreRef', id: s.refId },
    steps: [
      { step: 'transition', transitions: [transition('snapshot', s.snapshotId, ['Allocated'], 'Creating')] },
      { step: 'snapshot-on-primary', snapshotId: s.snapshotId, undo: onPrimary },
      {
        step: 'transition',
        transitions: [
          transition('snapshot', s.snapshotId, ['Creating'], 'CreatedOnPrimary', {
            set: { primaryHandle: handle },
            record: ['size'],
          }),
        ],
      },
      { step: 'export-snapshot', snapshotId: s.snapshotId, handle, ...(file.temporary ? { undo: exported } : {}) },
      {
        step: 'transition',
        transitions: [
          transition('snapshot', s.snapshotId, ['CreatedOnPrimary'], 'BackingUp', { record: ['physicalSize'] }),
          transition('snapshotStoreRef', s.refId, ['Allocated'], 'Creating'),
        ],
      },
      ...motion.steps,
      {
        step: 'commit',
        transitions: [
          transition('snapshotStoreRef', s.refId, ['Creating'], 'Ready', { record: ['size', 'sha256'] }),
          transition('snapshot', s.snapshotId, ['BackingUp'], 'BackedUp', { record: ['physicalSize'] }),
        ],
      },
      ...cleanup,
    ],
    onFailure: [
      transition('snapshotStoreRef', s.refId, ['Allocated', 'Creating'], 'Failed'),
      transition('snapshot', s.snapshotId, ['Allocated', 'Creating', 'CreatedOnPrimary', 'BackingUp'], 'Error', {
        set: { primaryHandle: null },
      }),
    ],
  };
}

/** What deleteSnapshot claims at the API, in one transaction with starting the job. */
export function deleteSnapshotClaims(s: {
  snapshotId: string;
  from: readonly ('BackedUp' | 'Error')[];
  copies: { refId: string }[];
}): Transition[] {
  return [
    transition('snapshot', s.snapshotId, s.from, 'Destroying'),
    ...s.copies.map((c) => transition('snapshotStoreRef', c.refId, ['Ready', 'Failed'], 'Destroying')),
  ];
}

/** Removes the snapshot from primary (if kept there) first, then each backup; then it is Destroyed. */
export function deleteSnapshotPlan(s: {
  snapshotId: string;
  primaryHandle?: string;
  copies: { refId: string; storeId: string; key: string }[];
}): Plan {
  return {
    summary: `delete snapshot ${s.snapshotId}`,
    steps: [
      ...(s.primaryHandle
        ? [{ step: 'remove-snapshot-on-primary' as const, snapshotId: s.snapshotId, handle: s.primaryHandle }]
        : []),
      ...s.copies.map((c) => ({ step: 'remove-store-object' as const, storeId: c.storeId, key: c.key })),
      {
        step: 'commit',
        transitions: [
          transition('snapshot', s.snapshotId, ['Destroying'], 'Destroyed', { set: { primaryHandle: null } }),
          ...s.copies.map((c) => transition('snapshotStoreRef', c.refId, ['Destroying'], 'Destroyed')),
        ],
      },
    ],
    onFailure: [
      transition('snapshot', s.snapshotId, ['Destroying'], 'Error'),
      ...s.copies.map((c) => transition('snapshotStoreRef', c.refId, ['Destroying'], 'Ready')),
    ],
  };
}
