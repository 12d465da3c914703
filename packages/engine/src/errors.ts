/** A problem the user can fix (bad submit dir, plan.yml, state): one line, exit 1. */
export class EngineError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** A bad command line option or argument (exit 2). */
export class UsageError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Throws an EngineError naming `file` and, when known, the line: `FILE:LINE: what`. */
export function failAt(file: string, line: number | undefined, what: string): never {
  throw new EngineError(`${file}${line ? `:${line}` : ''}: ${what}`);
}
