/** One problem found in an input file. `line` and `column` are 1-based; 0 when unknown. */
export interface Issue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Formats one issue as `FILE:LINE:COL: message` (or `FILE: message` when the position is unknown). */
export function formatIssue(issue: Issue): string {
  if (issue.line > 0) return `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`;
  return `${issue.file}: ${issue.message}`;
}

/** Compares issues by file, then line, then column. */
export function compareIssues(a: Issue, b: Issue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

/**
 * A user error in a workflow, catalog or properties file. `issues` holds every problem found (not
 * only the first); the message is one line per issue.
 */
export class ModelError extends Error {
  readonly issues: Issue[];
  constructor(issues: Issue[]) {
    const sorted = [...issues].sort(compareIssues);
    super(sorted.map(formatIssue).join('\n'));
    this.name = 'ModelError';
    this.issues = sorted;
  }
}

/** Throws a ModelError when `issues` is not empty. */
export function throwIfIssues(issues: Issue[]): void {
  if (issues.length > 0) throw new ModelError(issues);
}
