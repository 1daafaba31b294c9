// A job's plan as data: the steps it runs, what each creates and how it is undone, where the compensable part ends
// (the commit), the clean-up after it, and the rows it writes if it fails. Built once (by planning/, at the API),
// passed to the workflow as its input (so it is recorded in history and shown by explainDataMotion), and run by the
// one engine in workflows/run-plan.ts. Deterministic and dependency-free: workflows import it.
import type { RowState, RowKind } from './state-machine';

export type DiskFormat = 'QCOW2' | 'VHD' | 'VMDK' | 'OVA' | 'RAW' | 'ISO';
export type ObjectType = 'template' | 'snapshot' | 'volume';

/** A catalogue row, by kind and id. */
export interface RowRef {
  kind: RowKind;
  id: string;
}

/** Facts a plan's steps learn on the way, that a transition may record on its row. */
export interface PlanFacts {
  size?: number;
  sha256?: string;
  physicalSize?: number;
  virtualSize?: number;
}

/**
 * One state-machine write: the row moves from one of `from` to `to` (checked against the row kind's transition
 * table, and executed as `update … where state in (from)`); `set` are plain column values, `record` names facts
 * learned by earlier steps to store with it, each in the column of its name; `recordAs` stores a fact in a column
 * of another name (a volume's `size` is an image's virtualSize), when the fact is known, after `record`.
 */
export interface Transition {
  row: RowRef;
  from: readonly RowState[];
  to: RowState;
  set?: Record<string, string | number | boolean | null>;
  record?: readonly (keyof PlanFacts)[];
  recordAs?: Readonly<Record<string, keyof PlanFacts>>;
}

/** Steps that create something say how it is removed; a step inside a lease scope is removed by the lease's end. */
interface Undoable {
  /** What undoes this step if a later step fails before the commit (data, run by the engine). */
  undo?: CleanupStep;
  /** The cache lease this step writes under (see `reserve-cache`): its output goes when the lease ends. */
  lease?: string;
}

/** Removal steps: clean-ups after a commit, and the undos of steps that create things. */
export type CleanupStep =
  | { step: 'remove-store-object'; storeId: string; key: string }
  | { step: 'remove-pool-file'; hostId: string; path: string }
  /** A file on a pool, through whichever host of the pool's cluster is Up when it runs. */
  | { step: 'remove-pool-file-of'; poolId: string; fileName: string }
  | { step: 'remove-snapshot-on-primary'; snapshotId: string; handle: string }
  | { step: 'remove-snapshot-export'; snapshotId: string; fileName: string };

/** Byte-moving and host steps (the data-motion strategies produce these). */
export type MotionStep = Undoable &
  (
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
        /** Compare the converted disk's guest-visible content with the source (and the SHA-256 of what the step
         * before sent) before it takes its name. */
        verify?: boolean;
      }
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
    /** Takes a lease on cache space for `key`, named `lease` in this plan; released by `release-cache`, by
     * compensation, or by expiry if the worker dies. */
    | {
        step: 'reserve-cache';
        lease: string;
        storeId: string;
        key: string;
        bytes: number;
        objectType: ObjectType;
        objectId: string;
      }
    /** Ends the lease: the object stays for reuse (templates) or is removed. */
    | { step: 'release-cache'; lease: string; storeId: string; key: string; keepObject: boolean }
    | CleanupStep
  );

/** Steps of jobs on volumes and snapshots. */
export type DiskStep = Undoable &
  (
    | { step: 'create-blank-disk'; volumeId: string }
    | { step: 'snapshot-on-primary'; snapshotId: string }
    | { step: 'export-snapshot'; snapshotId: string; handle: string }
    /** A time-limited URL of a store object: the job's answer (extractTemplate, extractVolume). */
    | { step: 'extract-url'; storeId: string; key: string; seconds: number }
  );

export type PlanStep =
  | MotionStep
  | DiskStep
  /** State-machine writes made as the plan goes (Creating, BackingUp…). */
  | { step: 'transition'; transitions: Transition[] }
  /** The point of no return: these writes happen in one transaction; after them nothing is compensated and the
   * remaining steps are clean-up, retried until done. */
  | { step: 'commit'; transitions: Transition[] };

export type StepName = PlanStep['step'];

export interface Plan {
  /** What the plan does, for people (the Temporal UI, explainDataMotion). */
  summary: string;
  /** The data-motion strategy it uses, if it moves bytes. */
  strategy?: string;
  steps: PlanStep[];
  /** Written if the plan fails or is cancelled before its commit, after the undos ran (the reason is added). */
  onFailure: Transition[];
  /** The row whose copy saves a resumable transfer's progress (percent done, confirmed parts). */
  progressRow?: RowRef;
}

/** What running a plan learned: the last transfer's facts, a URL if it made one, and anything clean-up left. */
export interface PlanOutcome extends PlanFacts {
  resumedParts?: number;
  partsSent?: number;
  url?: string;
  /** Clean-up steps after the commit that could not be done (the commit stands; the leftover is reported). */
  leftovers?: string[];
}

/** A transition, checked against its row kind's table when it is applied. */
export function transition(
  kind: RowKind,
  id: string,
  from: readonly RowState[],
  to: RowState,
  more: Pick<Transition, 'set' | 'record' | 'recordAs'> = {},
): Transition {
  return { row: { kind, id }, from, to, ...more };
}
