// Transfers into image stores: streamed, checked on the way (size, SHA-256, format, the user's checksum), written by
// the transfer engine as resumable multipart uploads, so a retry after a crash resumes from the last part the store
// confirmed instead of starting over.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/activity';
import { parseChecksum } from '../core/checksum';
import { FailureType } from '../core/failures';
import { FormatSniffer, type SniffedFormat } from '../core/image-format';
import { ImageInspector } from '../core/image-inspector';
import type { Db } from '../db/client';
import type { PlanStep, RowRef } from '../core/plan';
import type { ImageStoreDriver, MultipartState } from '../plugins/image-stores/contract';
import { partsOf } from './byte-parts';
import { openSource } from '../net/fetch-source';
import { downloadPolicy } from '../planning/download-policy';
import type { WithStore } from './store-access';
import { completeTransfer, transferParts, type PartSource } from './transfer-engine';

export interface TransferResult {
  size: number;
  sha256: string;
  format: SniffedFormat;
  /** The guest-visible size the image's header gives (downloads only). */
  virtualSize?: number;
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
  /** Ferry's own services, which no user download may reach. */
  serviceEndpoints: readonly string[];
}

/** The copy's row a transfer saves its progress on. */
interface ProgressOf {
  progressRow?: RowRef;
}
type DownloadStep = Extract<PlanStep, { step: 'download' }> & ProgressOf;
type StreamStep = Extract<PlanStep, { step: 'stream-between-stores' }> & ProgressOf;

export function createTransferActivities({
  db,
  withStore,
  partSizeBytes,
  concurrency,
  serviceEndpoints,
}: TransferDeps) {
  /** A byte stream as parts for the transfer engine: each is read (and observed: hashed, sniffed) in order. */
  async function* streamParts(
    driver: ImageStoreDriver,
    source: AsyncIterable<Uint8Array>,
    observe: (part: Buffer) => void,
  ): AsyncGenerator<PartSource> {
    let partNumber = 0;
    for await (const part of partsOf(source, partSizeBytes)) {
      observe(part);
      const n = ++partNumber;
      yield {
        partNumber: n,
        length: part.length,
        send: async (state) => {
          const after = await driver.multipart.putPart(state, n, Readable.from([part]), part.length);
          return after.parts.find((p) => p.partNumber === n)!.etag;
        },
      };
    }
  }

  const writeParts = (
    driver: ImageStoreDriver,
    key: string,
    source: AsyncIterable<Uint8Array>,
    observe: (part: Buffer) => void,
    totalBytes: number | undefined,
    progress: ProgressOf,
  ) =>
    transferParts({
      db,
      driver,
      key,
      progressRow: progress.progressRow,
      totalBytes,
      concurrency,
      parts: streamParts(driver, source, observe),
    });

  const refuse = async (driver: ImageStoreDriver, state: MultipartState, message: string, type: string) => {
    await driver.multipart.abort(state);
    await driver.delete(state.key);
    return ApplicationFailure.nonRetryable(message, type);
  };

  return {
    /** URL → image store, with every check the data rules ask for. */
    async downloadToStore(step: DownloadStep): Promise<TransferResult> {
      // The whole policy, read now: the allow-list, and Ferry's own services (config and catalogue), never fetched.
      const source = await openSource(step.url, await downloadPolicy(db, serviceEndpoints));
      const total = Number(source.headers.get('content-length')) || undefined;
      const sha256 = createHash('sha256');
      const checksum = step.checksum ? parseChecksum(step.checksum) : undefined;
      const userHash = checksum?.algorithm === 'md5' ? createHash('md5') : undefined;
      // Every image entering Ferry is inspected as it streams: its format, and nothing in it that would make qemu-img
      // open another file (a backing file, a data file, an extent), nor a header its length cannot hold.
      const inspector = new ImageInspector(step.format);
      return await withStore(step.storeId, async (driver) => {
        const written = await writeParts(
          driver,
          step.key,
          source.body as unknown as AsyncIterable<Uint8Array>,
          (part) => {
            sha256.update(part);
            userHash?.update(part);
            inspector.update(part);
          },
          total,
          step,
        );
        const digest = sha256.digest('hex');
        const inspection = inspector.finish(written.bytes);
        const format = inspection.format;
        if (inspection.refusals.some((r) => r.rule === 'format-mismatch')) {
          throw await refuse(
            driver,
            written.state,
            `${step.url} is ${format === 'TEXT' ? 'text (an error page?)' : format}, not the ${step.format} it was registered as.`,
            FailureType.FormatMismatch,
          );
        }
        if (inspection.refusals.length > 0) {
          const why = inspection.refusals.map((r) => `${r.message} [${r.rule}]`).join(' ');
          throw await refuse(driver, written.state, `${step.url} is refused: ${why}`, FailureType.UnsafeImage);
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
        await completeTransfer(driver, written);
        return {
          size: written.bytes,
          sha256: digest,
          format,
          ...(inspection.virtualSize === undefined ? {} : { virtualSize: inspection.virtualSize }),
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
          await completeTransfer(to, written);
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
