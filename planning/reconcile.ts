// The doctor's judgement, pure: given the catalogue's rows, what every store lists and which jobs still run, what is
// orphaned (bytes or leases nothing live accounts for) and which rows lie (a transitional state whose job ended).
// The activities gather the inputs and carry out the repairs; nothing here does I/O, so it is tested with fakes.
import type { RowState, RowKind } from '../core/state-machine';
import type { Transition } from '../core/plan';

export type JobState = 'running' | 'ended';

/** A catalogue row in a state some job is meant to move it out of, or a copy that points at a store object. */
export interface CatalogueRow {
  kind: RowKind;
  id: string;
  state: RowState;
  /** Every job that may own the row: the one it names, and the async jobs started for its object. */
  jobIds: readonly string[];
  /** Copies on image stores: where the bytes are, and the multipart upload a job saved for them. */
  store?: { storeId: string; key: string; uploadId?: string };
}

export interface ListedStoreObject {
  key: string;
  size: number;
  modified: Date;
}

export interface ListedUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** One store as listed now; `listed: false` when it could not be reached (then nothing on it is judged). */
export interface StoreListing {
  storeId: string;
  role: 'Image' | 'ImageCache';
  listed: boolean;
  objects: readonly ListedStoreObject[];
  uploads: readonly ListedUpload[];
}

export interface CacheObjectRow {
  storeId: string;
  key: string;
  state: 'Creating' | 'Ready' | 'Evicted';
}

export interface ActiveLease {
  id: string;
  storeId: string;
  key: string;
  holder: string;
  created: Date;
}

export interface ReconcileInput {
  rows: readonly CatalogueRow[];
  stores: readonly StoreListing[];
  cacheObjects: readonly CacheObjectRow[];
  leases: readonly ActiveLease[];
  /** Ids of every template, volume and snapshot this catalogue has ever had: the object keys it owns. */
  ownedIds: ReadonlySet<string>;
  jobs: Readonly<Record<string, JobState>>;
  now: Date;
  graceSeconds: number;
}

export type OrphanKind = 'storeObject' | 'cacheObject' | 'multipartUpload' | 'lease';

export type Orphan =
  | { kind: 'storeObject' | 'cacheObject'; storeId: string; key: string }
  | { kind: 'multipartUpload'; storeId: string; key: string; uploadId: string }
  | { kind: 'lease'; storeId: string; leaseId: string; holder: string };

/** A row whose job ended while it was in a transitional state, and the truthful state the table allows. */
export interface LyingRow {
  transition: Transition;
  why: string;
}

export interface Findings {
  orphans: Orphan[];
  lying: LyingRow[];
  /** Rows whose truth cannot be told from here (a pool copy being removed, a row no job is known for). */
  undecided: { kind: RowKind; id: string; state: RowState; why: string }[];
  /** Ready copies whose bytes their store does not list: reported for a person to look at, never repaired. */
  missing: { kind: RowKind; id: string; storeId: string; key: string }[];
  /** Orphans younger than the grace period: counted, left alone. */
  young: number;
  /** Listed keys no id of this catalogue owns (another catalogue's, sharing the store): never judged. */
  foreign: number;
}

/** The catalogue id an object key belongs to (layout.ts and cache-key.ts), if it has the shape of one. */
export function owningId(key: string): string | undefined {
  const s = key.split('/');
  if (s[0] === 'template' && s[1] === 'tmpl') return s[3];
  if (s[0] === 'volumes' || s[0] === 'snapshots' || s[0] === 'cache') return s[2];
  return undefined;
}

const transitional: Partial<Record<RowKind, readonly RowState[]>> = {
  templateStoreRef: ['Allocated', 'Creating', 'Copying', 'Destroying'],
  templatePoolRef: ['Allocated', 'Creating', 'Copying', 'Destroying'],
  volumeStoreRef: ['Allocated', 'Creating', 'Copying', 'Destroying'],
  snapshotStoreRef: ['Allocated', 'Creating', 'Copying', 'Destroying'],
  volume: ['Allocated', 'Creating', 'Migrating', 'UploadOp', 'Destroy'],
  snapshot: ['Allocated', 'Creating', 'CreatedOnPrimary', 'BackingUp', 'Destroying'],
  host: ['Connecting'],
};

export const isTransitional = (kind: RowKind, state: RowState) => transitional[kind]?.includes(state) ?? false;

/** A job not asked about counts as running: only an answer from Temporal proves it ended. */
const jobEnded = (row: { jobIds: readonly string[] }, jobs: ReconcileInput['jobs']) =>
  row.jobIds.length > 0 && row.jobIds.every((j) => jobs[j] === 'ended');

/**
 * Where a row whose job ended truthfully goes: nothing finished, so a copy failed and a volume or snapshot is in
 * error, except a migration (it moves the volume only at its commit, so the volume is Ready where it was) and a
 * removal of a store copy (the store says whether the bytes are still there). Undefined: cannot be told.
 */
function truthOf(
  row: CatalogueRow,
  present: (storeId: string, key: string) => boolean | undefined,
): { to: RowState; set?: Transition['set'] } | undefined {
  switch (row.kind) {
    case 'templateStoreRef':
    case 'volumeStoreRef':
    case 'snapshotStoreRef': {
      if (row.state !== 'Destroying') return { to: 'Failed' };
      const there = row.store ? present(row.store.storeId, row.store.key) : undefined;
      return there === undefined ? undefined : { to: there ? 'Ready' : 'Destroyed' };
    }
    case 'templatePoolRef':
      // Whether a removal from a pool happened needs the pool's listing, which the doctor does not take yet.
      return row.state === 'Destroying' ? undefined : { to: 'Failed' };
    case 'volume':
      if (row.state === 'Migrating') return { to: 'Ready', set: { migratingTo: null } };
      if (row.state === 'UploadOp') return { to: 'UploadError' };
      return { to: 'Error' };
    case 'snapshot':
      return { to: 'Error' };
    case 'host':
      return { to: 'Error' };
    default:
      return undefined;
  }
}

export function reconcile(input: ReconcileInput): Findings {
  const findings: Findings = { orphans: [], lying: [], undecided: [], missing: [], young: 0, foreign: 0 };
  const cutoff = input.now.getTime() - input.graceSeconds * 1000;
  const byStore = new Map(input.stores.map((s) => [s.storeId, s]));
  const present = (storeId: string, key: string) => {
    const store = byStore.get(storeId);
    return store?.listed ? store.objects.some((o) => o.key === key) : undefined;
  };

  // Rows first: a row that lies no longer accounts for bytes, unless its truth is Ready. `pointing`: keys whose
  // bytes a row accounts for; `writing`: keys a running job may be uploading to.
  const pointing = new Set<string>();
  const writing = new Set<string>();
  const claimedUploads = new Set<string>();
  const at = (storeId: string, key: string) => `${storeId}\n${key}`;
  for (const row of input.rows) {
    const moving = isTransitional(row.kind, row.state);
    let live = moving ? !jobEnded(row, input.jobs) : row.state === 'Ready';
    if (moving && row.jobIds.length === 0) {
      findings.undecided.push({ kind: row.kind, id: row.id, state: row.state, why: 'no job is known for it' });
    } else if (moving && !live) {
      const truth = truthOf(row, present);
      if (!truth) {
        findings.undecided.push({ kind: row.kind, id: row.id, state: row.state, why: 'its outcome cannot be told' });
        live = true; // an undecided row keeps what it points at
      } else {
        findings.lying.push({
          transition: { row: { kind: row.kind, id: row.id }, from: [row.state], to: truth.to, set: truth.set },
          why: `the doctor found it ${row.state} after its job ${row.jobIds.join(', ')} had ended`,
        });
        live = truth.to === 'Ready';
      }
    }
    if (live && row.store) {
      pointing.add(at(row.store.storeId, row.store.key));
      if (isTransitional(row.kind, row.state)) writing.add(at(row.store.storeId, row.store.key));
      if (row.store.uploadId) claimedUploads.add(row.store.uploadId);
      if (row.state === 'Ready' && present(row.store.storeId, row.store.key) === false) {
        findings.missing.push({ kind: row.kind, id: row.id, ...row.store });
      }
    }
  }
  for (const c of input.cacheObjects) if (c.state !== 'Evicted') pointing.add(at(c.storeId, c.key));
  for (const lease of input.leases) {
    if (input.jobs[lease.holder] !== 'ended') {
      pointing.add(at(lease.storeId, lease.key));
      writing.add(at(lease.storeId, lease.key));
      continue;
    }
    if (lease.created.getTime() > cutoff) findings.young++;
    else findings.orphans.push({ kind: 'lease', storeId: lease.storeId, leaseId: lease.id, holder: lease.holder });
  }

  const ours = (key: string) => {
    const id = owningId(key);
    if (id !== undefined && input.ownedIds.has(id)) return true;
    findings.foreign++;
    return false;
  };
  for (const store of input.stores) {
    if (!store.listed) continue;
    for (const o of store.objects) {
      if (!ours(o.key) || pointing.has(at(store.storeId, o.key))) continue;
      if (o.modified.getTime() > cutoff) findings.young++;
      else {
        const kind = store.role === 'ImageCache' ? 'cacheObject' : 'storeObject';
        findings.orphans.push({ kind, storeId: store.storeId, key: o.key });
      }
    }
    for (const u of store.uploads) {
      if (!ours(u.key) || claimedUploads.has(u.uploadId) || writing.has(at(store.storeId, u.key))) continue;
      if (u.initiated.getTime() > cutoff) findings.young++;
      else findings.orphans.push({ kind: 'multipartUpload', storeId: store.storeId, key: u.key, uploadId: u.uploadId });
    }
  }
  return findings;
}
