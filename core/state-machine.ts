// One table of legal transitions per kind of catalogue row, after CloudStack's ObjectInDataStoreStateMachine: every
// state write names where the row may come from, db/transitions.ts executes it as `update … where state in (from)`,
// and a transition not in its table fails loudly before any SQL runs. Deterministic and dependency-free.

/** CloudStack's ObjectInDataStore states: copies of templates, volumes and snapshots on stores and pools. */
export type CopyState = 'Allocated' | 'Creating' | 'Ready' | 'Copying' | 'Destroying' | 'Destroyed' | 'Failed';

/** CloudStack's Volume.State, the ones Ferry uses. */
export type VolumeState =
  | 'Allocated'
  | 'Creating'
  | 'Ready'
  | 'Migrating'
  | 'Destroy'
  | 'Expunged'
  | 'UploadOp'
  | 'Uploaded'
  | 'UploadError'
  | 'Error';

/** CloudStack's Snapshot.State. */
export type SnapshotState =
  'Allocated' | 'Creating' | 'CreatedOnPrimary' | 'BackingUp' | 'BackedUp' | 'Destroying' | 'Destroyed' | 'Error';

export type TemplateState = 'Active' | 'Inactive';
/** CloudStack's host Status: Connecting while addHost probes it, Up once probed, Error with the reason. */
export type HostState = 'Connecting' | 'Up' | 'Down' | 'Error';
export type CacheLeaseState = 'Active' | 'Released' | 'Expired';

interface StatesOf {
  templateStoreRef: CopyState;
  templatePoolRef: CopyState;
  volumeStoreRef: CopyState;
  snapshotStoreRef: CopyState;
  volume: VolumeState;
  snapshot: SnapshotState;
  template: TemplateState;
  host: HostState;
  cacheLease: CacheLeaseState;
}

export type RowKind = keyof StatesOf;
export type RowState = StatesOf[RowKind];

type Table<S extends string> = Readonly<Record<S, readonly S[]>>;

const copies: Table<CopyState> = {
  // A new job takes a Failed or Destroyed row again only through Allocated (the API's revival).
  Allocated: ['Creating', 'Copying', 'Failed'],
  Creating: ['Ready', 'Failed'],
  Copying: ['Ready', 'Failed'],
  Ready: ['Destroying'],
  // A removal that failed leaves the copy where it was: Ready, with the reason.
  Destroying: ['Destroyed', 'Ready'],
  Failed: ['Allocated', 'Destroying', 'Destroyed'],
  Destroyed: ['Allocated'],
};

const volumes: Table<VolumeState> = {
  Allocated: ['Creating', 'UploadOp', 'Error', 'Destroy'],
  Creating: ['Ready', 'Error'],
  // A migration that does not commit ends Ready where it was.
  Ready: ['Migrating', 'Destroy'],
  Migrating: ['Ready'],
  Destroy: ['Expunged', 'Error'],
  Expunged: [],
  UploadOp: ['Uploaded', 'UploadError'],
  Uploaded: ['Destroy'],
  UploadError: ['Destroy'],
  Error: ['Destroy'],
};

const snapshots: Table<SnapshotState> = {
  Allocated: ['Creating', 'Error'],
  Creating: ['CreatedOnPrimary', 'Error'],
  CreatedOnPrimary: ['BackingUp', 'Error'],
  BackingUp: ['BackedUp', 'Error'],
  // BackedUp → BackedUp records what its clean-up removed (the snapshot on primary).
  BackedUp: ['Destroying', 'BackedUp'],
  Destroying: ['Destroyed', 'Error'],
  Destroyed: [],
  Error: ['Destroying'],
};

const templates: Table<TemplateState> = {
  // A template stays Active while its content is recorded (size, SHA-256); Inactive once its last copy is gone.
  Active: ['Active', 'Inactive'],
  Inactive: [],
};

const hosts: Table<HostState> = {
  Connecting: ['Up', 'Error'],
  Up: ['Down', 'Error', 'Connecting'],
  Down: ['Up', 'Connecting'],
  Error: ['Connecting'],
};

const cacheLeases: Table<CacheLeaseState> = {
  Active: ['Released', 'Expired'],
  Released: [],
  Expired: [],
};

export const transitionTables: { readonly [K in RowKind]: Table<StatesOf[K]> } = {
  templateStoreRef: copies,
  templatePoolRef: copies,
  volumeStoreRef: copies,
  snapshotStoreRef: copies,
  volume: volumes,
  snapshot: snapshots,
  template: templates,
  host: hosts,
  cacheLease: cacheLeases,
};

export class IllegalTransition extends Error {
  constructor(
    readonly kind: RowKind,
    readonly from: string,
    readonly to: string,
  ) {
    super(`illegal transition of a ${kind} row: ${from} → ${to}`);
    this.name = 'IllegalTransition';
  }
}

export function isLegal(kind: RowKind, from: string, to: string): boolean {
  const table = transitionTables[kind] as Record<string, readonly string[] | undefined>;
  return table[from]?.includes(to) ?? false;
}

/** Throws unless every `from` may go to `to`: a plan naming an illegal transition is a bug, found before it runs. */
export function assertLegal(kind: RowKind, from: readonly string[], to: string): void {
  for (const state of from) if (!isLegal(kind, state, to)) throw new IllegalTransition(kind, state, to);
}

/** The states a row in `to` may have come from (what a write that does not name its origin allows). */
export function predecessors(kind: RowKind, to: string): string[] {
  const table = transitionTables[kind] as Record<string, readonly string[]>;
  return Object.keys(table).filter((from) => table[from]!.includes(to));
}
