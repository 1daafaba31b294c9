// The kinds of failure Ferry reports, shared by every layer: activities raise them, workflows carry them,
// the API turns them into CloudStack error codes. Deterministic and dependency-free (workflows import it).

export const ErrorCode = {
  Unauthorized: 401,
  MalformedParameter: 430,
  ParamError: 431,
  UnsupportedAction: 432,
  InternalError: 530,
  InsufficientCapacity: 533,
  ResourceUnavailable: 534,
  ResourceInUse: 536,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** CloudStack's cserrorcode: the Java exception class behind the HTTP-level code. */
export const CsErrorCode: Record<ErrorCode, number> = {
  401: 9999,
  430: 9999,
  431: 4350,
  432: 9999,
  530: 4250,
  533: 4365,
  534: 4370,
  536: 4375,
};

/**
 * Every kind of failure Ferry raises: its API error code, and whether it is final — no retry can fix it (the input
 * or the source is wrong, or the catalogue says no). This table is the one place retryability is decided: activities
 * throw these types, the activity proxies' nonRetryableErrorTypes are read from it.
 */
const kinds = {
  HostKeyMismatch: { code: ErrorCode.ResourceUnavailable, final: true },
  HostAuthenticationFailed: { code: ErrorCode.ResourceUnavailable, final: true },
  HostUnreachable: { code: ErrorCode.ResourceUnavailable, final: false },
  HostToolMissing: { code: ErrorCode.ResourceUnavailable, final: true },
  HostPoolPathMissing: { code: ErrorCode.ResourceUnavailable, final: true },
  HostCommandFailed: { code: ErrorCode.InternalError, final: true },
  /** No host of the pool's cluster is Up to do the work. */
  NoHostUp: { code: ErrorCode.ResourceUnavailable, final: true },
  NotFound: { code: ErrorCode.ParamError, final: true },
  UrlRefused: { code: ErrorCode.ParamError, final: true },
  SourceNotFound: { code: ErrorCode.ParamError, final: true },
  SourceUnavailable: { code: ErrorCode.ResourceUnavailable, final: false },
  ChecksumMismatch: { code: ErrorCode.ParamError, final: true },
  FormatMismatch: { code: ErrorCode.ParamError, final: true },
  /** The image is unsafe or broken (a backing file, an extent outside it, truncated): see core/image-inspector. */
  UnsafeImage: { code: ErrorCode.ParamError, final: true },
  NoMotionPlan: { code: ErrorCode.ResourceUnavailable, final: true },
  StoreUnavailable: { code: ErrorCode.ResourceUnavailable, final: true },
  /** A copy's content differs from its source: never committed. */
  VerificationFailed: { code: ErrorCode.InternalError, final: true },
  /** A row is not in a state the step may move it from (the state machine said no). */
  IllegalTransition: { code: ErrorCode.ResourceInUse, final: true },
  /** A row the job was started for is not there (yet: the API commits its rows as the job starts). */
  RowMissing: { code: ErrorCode.InternalError, final: false },
  /** Another job already holds the row or the transfer. */
  InUse: { code: ErrorCode.ResourceInUse, final: true },
} as const satisfies Record<string, { code: ErrorCode; final: boolean }>;

export type FailureType = keyof typeof kinds;
export const FailureType = Object.fromEntries(Object.keys(kinds).map((k) => [k, k])) as {
  readonly [K in FailureType]: K;
};

export const failureErrorCode: Record<FailureType, ErrorCode> = Object.fromEntries(
  Object.entries(kinds).map(([k, v]) => [k, v.code]),
) as Record<FailureType, ErrorCode>;

/** The failure types no retry can fix: what every activity proxy passes as nonRetryableErrorTypes. */
export const finalFailureTypes: readonly FailureType[] = (Object.keys(kinds) as FailureType[]).filter(
  (k) => kinds[k].final,
);

export function isFailureType(value: string | undefined | null): value is FailureType {
  return value != null && Object.prototype.hasOwnProperty.call(kinds, value);
}
