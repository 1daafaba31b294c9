// The image-store provider contract (CloudStack's ImageStoreProvider + lifecycle + ImageStoreDriver, with less
// ceremony). A provider parses and checks its configuration and opens drivers; a driver moves bytes as streams.
// Orchestration decides by `capabilities`, never by a provider's name.
import type { Readable } from 'node:stream';
import type { MultipartState } from '../../core/multipart-state';
import type { SshExecutor } from '../../ssh/executor';

export type StoreScope = 'ZONE' | 'REGION';

export interface ImageStoreCapabilities {
  /** Scopes a store of this provider may have. */
  scopes: readonly StoreScope[];
  /** Time-limited URLs anyone can GET (presigned, temp URL, or Ferry's signed download endpoint). */
  expiringUrls: boolean;
  /** Multipart writes whose state can be saved and resumed by another process. */
  multipartResume: boolean;
  /** Copies between two locations of the same backend without the bytes passing through Ferry. */
  serverSideCopy: boolean;
  /** The backend can tell its total and used capacity. */
  reportsCapacity: boolean;
  /** Its multipart writer signs part-upload URLs, so hosts can upload to it without credentials. */
  partUploadUrls: boolean;
  /** Hypervisor hosts can mount it and read objects as files under settings.mountpath (NFS). */
  hostMountable: boolean;
}

/** What addImageStore gives a provider: the url and the details[i].key/value map. */
export interface StoreInput {
  url?: string | undefined;
  details: Record<string, string>;
}

/** A validated configuration, split so secrets can be sealed apart from what may be shown. */
export interface StoreConfig {
  /** Shown in responses and kept in clear (endpoint, bucket, ...). */
  settings: Record<string, string>;
  /** Never shown, never logged, sealed at rest (keys, passwords). */
  secrets: Record<string, string>;
  /** The url as listImageStores shows it (no credentials). */
  url: string;
  protocol: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

/** An object as a listing shows it: with when it was last written, so a reconciler can leave young objects alone. */
export interface ListedObject extends ObjectInfo {
  modified: Date;
}

/** A multipart upload begun and neither completed nor aborted. */
export interface OpenUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

// Defined in core/ because the database keeps it too (db/ sits below plugins/); re-exported for the drivers.
export type { MultipartState };

export interface StoreCapacity {
  totalBytes?: number;
  usedBytes?: number;
}

export interface ImageStoreDriver {
  /** The lifecycle's connectivity and credentials check: throws StoreCheckError saying what is wrong. */
  check(): Promise<void>;
  capacity(): Promise<StoreCapacity>;
  put(key: string, body: Readable, size?: number): Promise<ObjectInfo>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deleting what is not there is not an error (idempotent). */
  delete(key: string): Promise<void>;
  /** Whole objects only: a multipart upload in progress is listed by multipart.listUploads, not here. */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** A URL that fetches the object with plain HTTP GET until it expires. */
  expiringUrl(key: string, seconds: number): Promise<string>;
  multipart: MultipartWriter;
  /** Server-side copy within this store, when capabilities.serverSideCopy. */
  copy?(fromKey: string, toKey: string): Promise<ObjectInfo>;
  close(): Promise<void>;
}

export interface MultipartWriter {
  /** Smallest part the backend accepts (all but the last part). */
  readonly minPartSize: number;
  begin(key: string): Promise<MultipartState>;
  /** Writes one part; writing a part number again replaces it (so a retried part is harmless). */
  putPart(state: MultipartState, partNumber: number, body: Readable, size: number): Promise<MultipartState>;
  /**
   * A URL that accepts one part by plain HTTP PUT until it expires (its response's ETag is the part's etag), so a
   * hypervisor host can upload without holding the store's credentials. Absent where the backend cannot sign one.
   */
  partUploadUrl?(state: MultipartState, partNumber: number, seconds: number): Promise<string>;
  complete(state: MultipartState): Promise<ObjectInfo>;
  abort(state: MultipartState): Promise<void>;
  /** The uploads in progress whose keys start with `prefix` (abort one with abort({ key, uploadId, parts: [] })). */
  listUploads(prefix: string): AsyncIterable<OpenUpload>;
  /** Aborts uploads under `prefix` begun before `olderThan`, returning how many. */
  abortAbandoned(prefix: string, olderThan: Date): Promise<number>;
}

/** Why a store was refused; the API maps `kind` to an error code. */
export class StoreCheckError extends Error {
  constructor(
    readonly kind: 'config' | 'unreachable' | 'credentials' | 'missing-container',
    message: string,
  ) {
    super(message);
  }
}

/** What providers may need from Ferry itself (e.g. NFS serves expiring URLs through Ferry's download endpoint). */
export interface ProviderServices {
  /** Ferry's own signed download endpoint, for backends that cannot make URLs themselves. */
  signedDownloadUrl(storeId: string, key: string, seconds: number): string;
  ssh: SshExecutor;
}

export interface ImageStoreProvider {
  /** CloudStack's provider name: NFS, S3, Swift. */
  readonly name: string;
  readonly capabilities: ImageStoreCapabilities;
  /** Detail keys this provider understands (anything else is refused). */
  readonly detailKeys: readonly string[];
  /** Validates the input; throws StoreCheckError('config') naming the problem. Does no I/O. */
  parse(input: StoreInput): StoreConfig;
  open(config: StoreConfig, storeId: string, services: ProviderServices): ImageStoreDriver;
}
