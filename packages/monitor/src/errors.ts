/**
 * A user error from the monitor (a missing or unreadable submit dir, a file that is not what it
 * should be): one line, naming the file (and line) and what was expected. `exitCode` is what
 * the CLI exits with.
 */
export class MonitorError extends Error {
  override name = 'MonitorError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
