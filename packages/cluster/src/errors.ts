/**
 * Errors meant for the user: the message is the complete text to print (no stack trace),
 * `exitCode` the process exit code the CLI should use.
 */
export interface UserErrorOptions {
  file?: string;
  line?: number;
  exitCode?: number;
}

export class UserError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly exitCode: number;

  constructor(message: string, opts: UserErrorOptions = {}) {
    super(message);
    this.name = 'UserError';
    this.file = opts.file;
    this.line = opts.line;
    this.exitCode = opts.exitCode ?? 2;
  }
}

/** One problem found in a DAG or rescue file. */
export interface DagIssue {
  file: string;
  line: number;
  /** What was wrong, with what was expected, without the `FILE:LINE: ` prefix. */
  message: string;
}

/** Most issues listed in one DagError message; the rest are counted. */
export const MAX_LISTED_ISSUES = 20;

/**
 * A DAG (or rescue) file error: `FILE:LINE: what was wrong (expected ...)`. When a file has
 * several problems the message lists them one per line (up to MAX_LISTED_ISSUES, then
 * `... and N more`); `issues` holds the listed ones, `file`/`line` the first.
 */
export class DagError extends UserError {
  readonly issues: readonly DagIssue[];
  /** Number of problems found, listed or not. */
  readonly total: number;

  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`, { file, line });
    this.name = 'DagError';
    this.issues = [{ file, line, message }];
    this.total = 1;
  }

  /** One error for many issues (sorted by file order of appearance, then line). */
  static fromIssues(issues: readonly DagIssue[], total = issues.length): DagError {
    if (issues.length === 0) throw new Error('DagError.fromIssues: no issues');
    const sorted = [...issues].sort((a, b) => a.line - b.line);
    const listed = sorted.slice(0, MAX_LISTED_ISSUES);
    const first = listed[0];
    const err = new DagError(first.file, first.line, first.message);
    const lines = listed.map((i) => `${i.file}:${i.line}: ${i.message}`);
    if (total > listed.length) lines.push(`... and ${total - listed.length} more`);
    err.message = lines.join('\n');
    (err as { issues: readonly DagIssue[] }).issues = listed;
    (err as { total: number }).total = total;
    return err;
  }
}

/** A bad command line option or environment value. */
export class UsageError extends UserError {
  constructor(message: string, opts: UserErrorOptions = {}) {
    super(message, opts);
    this.name = 'UsageError';
  }
}
