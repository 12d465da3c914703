/** A spec file that cannot be used: bad JSON or an entry of the wrong shape (exit code 2). */
export class SpecError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/** A bad option value (exit code 2). */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * One failed try of one entry (or one source of it). `permanent` errors (an unsupported URL
 * scheme, a destination that cannot be written by any tool here) are not retried.
 */
export class TransferError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'TransferError';
  }
}
