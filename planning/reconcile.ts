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
  /** The template, volume or snapshot the row is of: the id pool file names carry. */
  objectId?: string;
  /** A file on a primary pool the row accounts for (a volume's disk, a template's pool copy, a snapshot file). */
  pool?: { poolId: string; file: string };
  /** A hypervisor snapshot inside a disk on a pool the row accounts for (a snapshot on primary). */
  hostSnapshot?: { poolId: string; file: string; name: string };
  /** Rows outside the transitional states that still account for their bytes (default: Ready ones only). */
  keeps?: boolean;
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

/** A file in a primary pool's directory. */
export interface ListedPoolFile {
  name: string;
  size: number;
  modified: Date;
}

/** A hypervisor snapshot found inside a disk file of a pool (qemu-img info's `snapshots`). */
export interface ListedHostSnapshot {
  file: string;
  name: string;
  created: Date;
}

/** One primary pool as listed through a host of its cluster; `listed: false` when no host could list it. */
export interface PoolListing {
  poolId: string;
  listed: boolean;
  files: readonly ListedPoolFile[];
  snapshots: readonly ListedHostSnapshot[];
}

export interface ReconcileInput {
  rows: readonly CatalogueRow[];
  stores: readonly StoreListing[];
  /** Primary pools (absent: none listed, nothing on them judged). */
  pools?: readonly PoolListing[];
  cacheObjects: readonly CacheObjectRow[];
  leases: readonly ActiveLease[];
  /** Ids of every template, volume and snapshot this catalogue has ever had: the object keys it owns. */
  ownedIds: ReadonlySet<string>;
  jobs: Readonly<Record<string, JobState>>;
  now: Date;
  graceSeconds: number;
}

export type OrphanKind = 'storeObject' | 'cacheObject' | 'multipartUpload' | 'lease' | 'poolFile' | 'hostSnapshot';

export type Orphan =
  | { kind: 'storeObject' | 'cacheObject'; storeId: string; key: string }
  | { kind: 'poolFile'; poolId: string; file: string; ownerId: string }
  | { kind: 'hostSnapshot'; poolId: string; file: string; name: string; ownerId: string }
  | { kind: 'multipartUpload'; storeId: string; key: string; uploadId: string }
  | { kind: 'lease'; storeId: string; leaseId: string; holder: string };

/** A row whose job ended while it was in a transitional state, and the truthful state the table allows. */
export interface LyingRow {
  transition: Transition;
  why: string;
  /**
   * Who owned the row at the survey: its object (whose async jobs count) and every job id seen for it. The repair
   * ends the row only while these are unchanged, so it never lands on a newer job's claim of the same row.
   */
  objectId?: string;
  jobIds: readonly string[];
}

/** True when the jobs that own a row now are the ones the survey saw (order and repeats aside). */
export function sameOwners(surveyed: readonly string[], now: readonly string[]): boolean {
  const a = new Set(surveyed);
  const b = new Set(now);
  return a.size === b.size && [...a].every((id) => b.has(id));
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

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
// Only the names Ferry itself gives (volumeFileName, template-copies.ts, qemu-img.ts's snapshot exports) are judged:
// anything else beside them (an operator's `<vol>.qcow2.bak`, a libvirt overlay `<vol>.qcow2.<snap>`) is foreign.
const EXT = '(?:qcow2|vhd|vmdk|ova|raw|iso|img)';
const FERRY_FILE = new RegExp(`^(?:\\.snapshot-)?(${UUID})\\.${EXT}$`, 'i');
const FERRY_SNAPSHOT = new RegExp(`^ferry-(${UUID})$`, 'i');

/** The catalogue id a pool file is named after, if Ferry named it (a disk, a pool copy, an export, or their work files). */
export const poolOwningId = (name: string): string | undefined =>
  FERRY_FILE.exec(finalNameOf(name))?.[1]?.toLowerCase();

/** The catalogue id a hypervisor snapshot inside a disk is named after, if Ferry made it (`ferry-<id>`). */
export const hostSnapshotOwningId = (name: string): string | undefined => FERRY_SNAPSHOT.exec(name)?.[1]?.toLowerCase();

/**
 * The final name a work file stands for: `tempPathOf`'s `.X.ferry-tmp`, a download's `.X.ferry-download`, an upload's
 * `X.ferry-part` (host-commands.ts, host-disks.ts, volume-disks.ts); any other name stands for itself.
 */
export function finalNameOf(name: string): string {
  const hidden = /^(.*\/)?\.([^/]+)\.ferry-(?:tmp|download)$/.exec(name);
  if (hidden) return `${hidden[1] ?? ''}${hidden[2]}`;
  return name.endsWith('.ferry-part') ? name.slice(0, -'.ferry-part'.length) : name;
}

/**
 * Whether copy rows now at an upload's key still want it: one saved it (its job resumes from it), or one is
 * transitional (a job may be writing it). A Ready row does not: it completed with this upload (aborting that is
 * harmless; the Swift driver keeps a manifest's segments) or with another (this one is a leftover).
 */
export const uploadWanted = (
  rows: readonly { kind: RowKind; state: RowState; uploadId?: string }[],
  uploadId: string,
): boolean => rows.some((r) => r.uploadId === uploadId || isTransitional(r.kind, r.state));

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
  presentOnPool: (poolId: string, file: string) => boolean | undefined,
): { to: RowState; set?: Transition['set'] } | undefined {
  switch (row.kind) {
    case 'templateStoreRef':
    case 'volumeStoreRef':
    case 'snapshotStoreRef': {
      if (row.state !== 'Destroying') return { to: 'Failed' };
      const there = row.store ? present(row.store.storeId, row.store.key) : undefined;
      return there === undefined ? undefined : { to: there ? 'Ready' : 'Destroyed' };
    }
    case 'templatePoolRef': {
      if (row.state !== 'Destroying') return { to: 'Failed' };
      // Whether the removal from the pool happened: the pool's listing says (unlisted: cannot be told).
      const there = row.pool ? presentOnPool(row.pool.poolId, row.pool.file) : undefined;
      return there === undefined ? undefined : { to: there ? 'Ready' : 'Destroyed' };
    }
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
  const byPool = new Map((input.pools ?? []).map((p) => [p.poolId, p]));
  const presentOnPool = (poolId: string, file: string) => {
    const pool = byPool.get(poolId);
    return pool?.listed ? pool.files.some((f) => f.name === file) : undefined;
  };

  // Rows first: a row that lies no longer accounts for bytes, unless its truth is Ready. `pointing`: keys whose
  // bytes a row accounts for; `writing`: keys a running job may be uploading to.
  const pointing = new Set<string>();
  const writing = new Set<string>();
  const claimedUploads = new Set<string>();
  const at = (storeId: string, key: string) => `${storeId}\n${key}`;
  // `busy`: ids some job may still be working on (its row transitional and the job not proven ended, or undecided):
  // their pool files and hypervisor snapshots, finished or not, are left alone.
  const busy = new Set<string>();
  // Pool files and snapshots kept by name, whatever pool row names them: two pool rows can be one directory.
  const keptFiles = new Set<string>();
  const keptSnapshots = new Set<string>();
  for (const row of input.rows) {
    const moving = isTransitional(row.kind, row.state);
    let live = moving ? !jobEnded(row, input.jobs) : (row.keeps ?? row.state === 'Ready');
    let lies = false;
    if (moving && row.jobIds.length === 0) {
      findings.undecided.push({ kind: row.kind, id: row.id, state: row.state, why: 'no job is known for it' });
    } else if (moving && !live) {
      const truth = truthOf(row, present, presentOnPool);
      if (!truth) {
        findings.undecided.push({ kind: row.kind, id: row.id, state: row.state, why: 'its outcome cannot be told' });
        live = true; // an undecided row keeps what it points at
      } else {
        findings.lying.push({
          transition: { row: { kind: row.kind, id: row.id }, from: [row.state], to: truth.to, set: truth.set },
          why: `the doctor found it ${row.state} after its job ${row.jobIds.join(', ')} had ended`,
          ...(row.objectId !== undefined ? { objectId: row.objectId } : {}),
          jobIds: row.jobIds,
        });
        live = truth.to === 'Ready';
        lies = true;
      }
    }
    // Not a lying row (its job ended): running, unknown, or undecided.
    if (moving && live && !lies && row.objectId) busy.add(row.objectId);
    if (live && row.pool) {
      keptFiles.add(row.pool.file);
      if (row.state === 'Ready' && presentOnPool(row.pool.poolId, row.pool.file) === false) {
        findings.missing.push({ kind: row.kind, id: row.id, storeId: row.pool.poolId, key: row.pool.file });
      }
    }
    if (live && row.hostSnapshot) {
      const h = row.hostSnapshot;
      keptSnapshots.add(at(h.file, h.name));
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
  // A work file (a copy's temporary) is as wanted as the file it becomes while something writes that one.
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
      if (o.key !== finalNameOf(o.key) && writing.has(at(store.storeId, finalNameOf(o.key)))) continue;
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

  const ourFile = (name: string, idOf = poolOwningId): string | undefined => {
    const id = idOf(name);
    if (id !== undefined && input.ownedIds.has(id)) return id;
    findings.foreign++;
    return undefined;
  };
  for (const pool of input.pools ?? []) {
    if (!pool.listed) continue;
    for (const f of pool.files) {
      const ownerId = ourFile(f.name);
      if (ownerId === undefined || keptFiles.has(f.name) || busy.has(ownerId)) continue;
      if (f.modified.getTime() > cutoff) findings.young++;
      else findings.orphans.push({ kind: 'poolFile', poolId: pool.poolId, file: f.name, ownerId });
    }
    for (const s of pool.snapshots) {
      const ownerId = ourFile(s.name, hostSnapshotOwningId);
      if (ownerId === undefined || keptSnapshots.has(at(s.file, s.name))) continue;
      // A disk some job works on (a copy, a migration) keeps its snapshots until that job is done.
      const diskOwner = poolOwningId(s.file);
      if (busy.has(ownerId) || (diskOwner !== undefined && busy.has(diskOwner))) continue;
      if (s.created.getTime() > cutoff) findings.young++;
      else findings.orphans.push({ kind: 'hostSnapshot', poolId: pool.poolId, file: s.file, name: s.name, ownerId });
    }
  }
  return findings;
}
