// Transfers into image stores: streamed, checked on the way (size, SHA-256, format, the user's checksum), written as
// resumable multipart uploads whose state rides on the activity's heartbeat, so a retry after a crash resumes from
// the last part the store confirmed instead of starting over.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { parseChecksum } from '../core/checksum';
import { FailureType } from '../core/failures';
import { FormatSniffer, formatMatches, type SniffedFormat } from '../core/image-format';
import { parseCidrList } from '../core/url-policy';
import type { Db } from '../db/client';
import { readSetting } from '../db/settings';
import type { ImageStoreDriver, MultipartState } from '../plugins/image-stores/contract';
import type { PlanStep } from '../plugins/motion/contract';
import { completeUpload, withPart } from '../plugins/image-stores/multipart-state';
import { partsOf } from './byte-parts';
import { openSource } from '../net/fetch-source';
import { savedTransferState, saveTransferState, type RefKind } from './store-ref-progress';
import type { WithStore } from './store-access';

export interface TransferProgress {
  state: MultipartState;
  bytes: number;
}

export interface TransferResult {
  size: number;
  sha256: string;
  format: SniffedFormat;
  /** Parts the store already held from an earlier attempt (a resumed transfer). */
  resumedParts: number;
  partsSent: number;
}

export interface TransferDeps {
  db: Db;
  withStore: WithStore;
  partSizeBytes: number;
  /** Parts uploaded at once: more is faster, and is what a crash may have to send again. */
  concurrency: number;
}

/** The copy's row a transfer saves its progress on (a template's unless `refKind` says otherwise). */
interface RefOf {
  refId?: string;
  refKind?: RefKind;
}
type DownloadStep = Extract<PlanStep, { step: 'download' }> & RefOf;
type StreamStep = Extract<PlanStep, { step: 'stream-between-stores' }> & RefOf;

export function createTransferActivities({ db, withStore, partSizeBytes, concurrency }: TransferDeps) {
  /** Saves the upload's confirmed parts (and the percent done) on the copy's row, after every part. */
  async function saveProgress(ref: RefOf, state: MultipartState, bytes: number, total: number | undefined) {
    if (!ref.refId) return;
    const percent = total ? Math.min(99, Math.floor((bytes * 100) / total)) : 0;
    await saveTransferState(db, ref.refKind ?? 'template', ref.refId, state, percent);
  }

  /** Where an earlier attempt got to: the copy's saved state, else the last heartbeat's. */
  async function earlierState(ref: RefOf, key: string): Promise<MultipartState | undefined> {
    if (ref.refId) {
      const saved = await savedTransferState(db, ref.refKind ?? 'template', ref.refId);
      if (saved?.key === key) return saved;
    }
    const beat = Context.current().info.heartbeatDetails as TransferProgress | undefined;
    return beat?.state.key === key ? beat.state : undefined;
  }

  /**
   * Writes `source` to `key` as a multipart upload, resuming from the heartbeat of an earlier attempt: parts the
   * store already confirmed are read past (re-hashed, not re-sent). Returns the state ready to complete.
   */
  async function writeParts(
    driver: ImageStoreDriver,
    key: string,
    source: AsyncIterable<Uint8Array>,
    observe: (part: Buffer) => void,
    total: number | undefined,
    ref: RefOf,
  ) {
    const context = Context.current();
    let state = (await earlierState(ref, key)) ?? (await driver.multipart.begin(key));
    const resumedParts = state.parts.length;
    let bytes = 0;
    let partNumber = 0;
    let partsSent = 0;
    await saveProgress(ref, state, 0, total);
    context.heartbeat({ state, bytes } satisfies TransferProgress);
    // Up to `concurrency` parts upload while the next one is read and hashed (so at most concurrency + 1 parts are in
    // memory). Each confirmed part is saved at once, so a crash costs at most the parts in flight (one by default).
    const parts = partsOf(source, partSizeBytes);
    const inFlight = new Set<Promise<void>>();
    const confirmedBytes = () => state.parts.reduce((sum, p) => sum + p.size, 0);
    try {
      for await (const part of parts) {
        const n = ++partNumber;
        observe(part);
        bytes += part.length;
        const known = state.parts.find((p) => p.partNumber === n);
        if (known?.size === part.length) continue;
        // Wait for a free slot only now: the part was read and hashed while the earlier ones uploaded.
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        const upload = (async () => {
          const after = await driver.multipart.putPart(state, n, Readable.from([part]), part.length);
          state = withPart(
            state,
            after.parts.find((p) => p.partNumber === n)!,
          );
          partsSent++;
          context.heartbeat({ state, bytes: confirmedBytes() } satisfies TransferProgress);
          await saveProgress(ref, state, confirmedBytes(), total);
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
    }
    // Parts beyond the end (the source shrank since an earlier attempt) must not be stitched in.
    state = { ...state, parts: state.parts.filter((p) => p.partNumber <= partNumber) };
    return { state, bytes, resumedParts, partsSent };
  }

  const refuse = async (driver: ImageStoreDriver, state: MultipartState, message: string, type: string) => {
    await driver.multipart.abort(state);
    await driver.delete(state.key);
    return ApplicationFailure.nonRetryable(message, type);
  };

  return {
    /** URL → image store, with every check the data rules ask for. */
    async downloadToStore(step: DownloadStep): Promise<TransferResult> {
      const allowed = parseCidrList(await readSetting(db, 'secstorage.allowed.internal.download.sites'));
      const source = await openSource(step.url, allowed);
      const total = Number(source.headers.get('content-length')) || undefined;
      const sha256 = createHash('sha256');
      const checksum = step.checksum ? parseChecksum(step.checksum) : undefined;
      const userHash = checksum?.algorithm === 'md5' ? createHash('md5') : undefined;
      const sniffer = new FormatSniffer();
      return await withStore(step.storeId, async (driver) => {
        const written = await writeParts(
          driver,
          step.key,
          source.body as unknown as AsyncIterable<Uint8Array>,
          (part) => {
            sha256.update(part);
            userHash?.update(part);
            sniffer.update(part);
          },
          total,
          step,
        );
        const digest = sha256.digest('hex');
        const format = sniffer.result();
        if (!formatMatches(step.format, format)) {
          throw await refuse(
            driver,
            written.state,
            `${step.url} is ${format === 'TEXT' ? 'text (an error page?)' : format}, not the ${step.format} it was registered as.`,
            FailureType.FormatMismatch,
          );
        }
        if (checksum) {
          const got = checksum.algorithm === 'sha256' ? digest : userHash!.digest('hex');
          if (got !== checksum.hex) {
            throw await refuse(
              driver,
              written.state,
              `checksum mismatch: ${step.url} has ${checksum.algorithm} ${got}, not the ${checksum.hex} given.`,
              FailureType.ChecksumMismatch,
            );
          }
        }
        await completeUpload(driver, written.state, written.bytes);
        return {
          size: written.bytes,
          sha256: digest,
          format,
          resumedParts: written.resumedParts,
          partsSent: written.partsSent,
        };
      });
    },

    /** Store → store through Ferry (different stores or backends), resumable like a download. */
    async streamBetweenStores(step: StreamStep): Promise<TransferResult> {
      if (step.fromStoreId === step.toStoreId) throw new Error('within one store, copy with copyWithinStore');
      return await withStore(step.fromStoreId, async (from) => {
        const head = await from.head(step.fromKey);
        if (!head)
          throw ApplicationFailure.nonRetryable(`the source object ${step.fromKey} is missing`, FailureType.NotFound);
        const sha256 = createHash('sha256');
        const sniffer = new FormatSniffer();
        return await withStore(step.toStoreId, async (to) => {
          const written = await writeParts(
            to,
            step.toKey,
            await from.get(step.fromKey),
            (part) => {
              sha256.update(part);
              sniffer.update(part);
            },
            head.size,
            step,
          );
          if (written.bytes !== head.size) throw new Error(`read ${written.bytes} bytes of ${head.size}`);
          await completeUpload(to, written.state, written.bytes);
          const result = { size: written.bytes, sha256: sha256.digest('hex'), format: sniffer.result() };
          return { ...result, resumedParts: written.resumedParts, partsSent: written.partsSent };
        });
      });
    },

    async copyWithinStore(step: Extract<PlanStep, { step: 'copy-within-store' }>): Promise<{ size: number }> {
      return await withStore(step.storeId, async (driver) => {
        if (!driver.copy) throw new Error('this store cannot copy server-side');
        return { size: (await driver.copy(step.fromKey, step.toKey)).size };
      });
    },

    /** Compensation of every write: the object and any upload still open for it are removed. */
    async removeStoreObject({ storeId, key }: { storeId: string; key: string }): Promise<void> {
      await withStore(storeId, async (driver) => {
        await driver.delete(key);
        await driver.multipart.abortAbandoned(key, new Date(Date.now() + 1000));
      });
    },

    async extractUrl({ storeId, key, seconds }: { storeId: string; key: string; seconds: number }): Promise<string> {
      return await withStore(storeId, (driver) => driver.expiringUrl(key, seconds));
    },
  };
}
