// The one engine of every resumable multipart transfer (URL → store, store → store, host → store): it finds where an
// earlier attempt of the same job got to (the copy's saved state, else the last heartbeat), sends the parts not yet
// confirmed (up to `concurrency` at once), saves and heartbeats after each, heartbeats every second while it works
// (so a long read past confirmed parts never looks dead), stops as soon as the activity is cancelled or its attempt
// timed out, and completes the upload. A saved state of another job is never resumed: its upload is aborted.
import { Context } from '@temporalio/activity';
import type { RowRef } from '../core/plan';
import type { Db } from '../db/client';
import type { ImageStoreDriver, MultipartState } from '../plugins/image-stores/contract';
import { completeUpload, withPart } from '../plugins/image-stores/multipart-state';
import { savedTransferState, saveTransferState } from './store-ref-progress';
import { heartbeatAlive, heartbeatProgress } from './heartbeats';

/** One part as the source offers it: its number and length, and how to send it once the engine wants it sent. */
export interface PartSource {
  partNumber: number;
  length: number;
  /** Sends the part; returns its etag. Not called for a part the store already confirmed. */
  send(state: MultipartState): Promise<string>;
}

export interface TransferSpec {
  db: Db;
  driver: ImageStoreDriver;
  key: string;
  /** The copy's row that saves the confirmed parts and percent done (so a new worker resumes). */
  progressRow?: RowRef;
  /** Bytes expected in all, for the percent done (unknown for some downloads). */
  totalBytes?: number;
  concurrency: number;
  /** Every part in order, the confirmed ones included (the source may have to read past them). */
  parts: AsyncIterable<PartSource> | Iterable<PartSource>;
}

export interface TransferProgress {
  state: MultipartState;
  bytes: number;
}

/** A transfer's saved state carries the job that began it. */
type SavedState = MultipartState & { jobId?: string };

export interface Transferred {
  state: MultipartState;
  bytes: number;
  resumedParts: number;
  partsSent: number;
}

export class TransferStopped extends Error {
  constructor(reason: string) {
    super(`the transfer stopped: ${reason}`);
    this.name = 'TransferStopped';
  }
}

/** The upload to resume: this job's own saved state, or its last heartbeat; anything else's upload is aborted. */
async function earlierState(spec: TransferSpec, jobId: string): Promise<MultipartState | undefined> {
  const context = Context.current();
  if (spec.progressRow) {
    const saved: SavedState | undefined = await savedTransferState(spec.db, spec.progressRow, spec.key);
    if (saved && saved.jobId === jobId) return saved;
    if (saved) await spec.driver.multipart.abort(saved).catch(() => undefined);
  }
  const beat = context.info.heartbeatDetails as TransferProgress | undefined;
  return beat?.state.key === spec.key ? beat.state : undefined;
}

/** Sends the parts of `spec` and completes the upload; throws TransferStopped when the activity is cancelled. */
export async function transferParts(spec: TransferSpec): Promise<Transferred> {
  const context = Context.current();
  const jobId = context.info.workflowExecution?.workflowId ?? context.info.activityId;
  const signal = context.cancellationSignal;
  // Heartbeats (with the attempt's starting details) while the upload is found or begun: a store that takes its
  // time to answer (one restarting) is waited for, not taken for a dead worker.
  const starting = setInterval(() => heartbeatAlive(context), 1000);
  let state: MultipartState;
  try {
    state = (await earlierState(spec, jobId)) ?? (await spec.driver.multipart.begin(spec.key));
  } finally {
    clearInterval(starting);
  }
  const resumedParts = state.parts.length;
  const confirmedBytes = () => state.parts.reduce((sum, p) => sum + p.size, 0);
  let bytes = 0;
  let lastPart = 0;
  let partsSent = 0;

  const save = async () => {
    if (!spec.progressRow) return;
    const done = confirmedBytes();
    const percent = spec.totalBytes ? Math.min(99, Math.floor((done * 100) / spec.totalBytes)) : 0;
    const saved: SavedState = { ...state, jobId };
    await saveTransferState(spec.db, spec.progressRow, saved, percent);
  };
  const beat = () => heartbeatProgress(context, { state, bytes: confirmedBytes() } satisfies TransferProgress);
  await save();
  beat();
  // Heartbeats while parts are read, skipped or sent: the server sees the worker alive, and a cancellation
  // request comes back on the next one.
  const pump = setInterval(beat, 1000);
  const stopped = () => new TransferStopped(String(signal.reason ?? 'cancelled'));
  const inFlight = new Set<Promise<void>>();
  try {
    for await (const part of spec.parts) {
      if (signal.aborted) throw stopped();
      lastPart = part.partNumber;
      bytes += part.length;
      const known = state.parts.find((p) => p.partNumber === part.partNumber);
      if (known?.size === part.length) continue;
      while (inFlight.size >= spec.concurrency) await Promise.race(inFlight);
      if (signal.aborted) throw stopped();
      const upload = (async () => {
        const etag = await part.send(state);
        state = withPart(state, { partNumber: part.partNumber, size: part.length, etag });
        partsSent++;
        beat();
        await save();
      })();
      inFlight.add(upload);
      void upload.then(
        () => inFlight.delete(upload),
        () => undefined,
      );
    }
    await Promise.all(inFlight);
  } catch (err) {
    await Promise.allSettled(inFlight);
    throw err;
  } finally {
    clearInterval(pump);
  }
  if (signal.aborted) throw stopped();
  // Parts beyond the end (the source shrank since an earlier attempt) must not be stitched in.
  state = { ...state, parts: state.parts.filter((p) => p.partNumber <= lastPart) };
  return { state, bytes, resumedParts, partsSent };
}

/** Completes a transfer whose content was checked. */
export const completeTransfer = (driver: ImageStoreDriver, done: Transferred) =>
  completeUpload(driver, done.state, done.bytes);
