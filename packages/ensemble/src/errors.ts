/**
 * A request the manager refuses (unknown ensemble, a state change its state machine does not
 * allow, a bad name or interval): one line. `exitCode` is what the CLI exits with (2 for bad
 * input, 1 for a refused action); `status` the HTTP status the server answers with.
 */
export class EnsembleError extends Error {
  override name = 'EnsembleError';
  constructor(
    message: string,
    readonly exitCode = 2,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Something named does not exist (HTTP 404, exit 2). */
export function notFound(what: string): EnsembleError {
  return new EnsembleError(what, 2, 404);
}

/** A state change the state machine refuses (HTTP 409, exit 1). */
export function conflict(what: string): EnsembleError {
  return new EnsembleError(what, 1, 409);
}
