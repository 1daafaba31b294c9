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

/** ApplicationFailure types raised by activities and workflows, with the API error code each maps to. */
export const FailureType = {
  HostKeyMismatch: 'HostKeyMismatch',
  HostAuthenticationFailed: 'HostAuthenticationFailed',
  HostUnreachable: 'HostUnreachable',
  HostToolMissing: 'HostToolMissing',
  HostPoolPathMissing: 'HostPoolPathMissing',
  HostCommandFailed: 'HostCommandFailed',
  NotFound: 'NotFound',
  UrlRefused: 'UrlRefused',
  SourceNotFound: 'SourceNotFound',
  SourceUnavailable: 'SourceUnavailable',
  ChecksumMismatch: 'ChecksumMismatch',
  FormatMismatch: 'FormatMismatch',
  NoMotionPlan: 'NoMotionPlan',
  StoreUnavailable: 'StoreUnavailable',
  /** A copy's content differs from its source: never committed. */
  VerificationFailed: 'VerificationFailed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const failureErrorCode: Record<FailureType, ErrorCode> = {
  HostKeyMismatch: ErrorCode.ResourceUnavailable,
  HostAuthenticationFailed: ErrorCode.ResourceUnavailable,
  HostUnreachable: ErrorCode.ResourceUnavailable,
  HostToolMissing: ErrorCode.ResourceUnavailable,
  HostPoolPathMissing: ErrorCode.ResourceUnavailable,
  HostCommandFailed: ErrorCode.InternalError,
  NotFound: ErrorCode.ParamError,
  UrlRefused: ErrorCode.ParamError,
  SourceNotFound: ErrorCode.ParamError,
  SourceUnavailable: ErrorCode.ResourceUnavailable,
  ChecksumMismatch: ErrorCode.ParamError,
  FormatMismatch: ErrorCode.ParamError,
  NoMotionPlan: ErrorCode.ResourceUnavailable,
  StoreUnavailable: ErrorCode.ResourceUnavailable,
  VerificationFailed: ErrorCode.InternalError,
};

export function isFailureType(value: string | undefined | null): value is FailureType {
  return value != null && Object.prototype.hasOwnProperty.call(failureErrorCode, value);
}
