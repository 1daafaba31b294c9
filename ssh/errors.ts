// What can go wrong reaching a host, as distinct error classes: callers decide what is worth retrying.

export class HostKeyMismatchError extends Error {
  constructor(
    readonly address: string,
    readonly pinned: string,
    readonly seen: string,
  ) {
    super(`host key of ${address} is ${seen}, not the pinned ${pinned}: refusing to connect`);
  }
}

export class HostAuthenticationError extends Error {}

/** Connection refused, timed out or dropped: the host may come back, so this is retryable. */
export class HostUnreachableError extends Error {}

export class CommandTimeoutError extends Error {}

/** The command's channel was closed because the work it belonged to was cancelled. */
export class CommandAbortedError extends Error {}
