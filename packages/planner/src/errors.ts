import { formatIssue, type Issue, ModelError } from '@pegasus-ts/model';

/** A planning error the user can fix (bad workflow/catalog/option): one line per problem, exit 1. */
export class PlanError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }

  /** A PlanError for an issue positioned in an input file (`FILE:LINE:COL: message`). */
  static at(where: { file: string; line: number; column: number } | undefined, message: string): PlanError {
    if (!where) return new PlanError(message);
    return new PlanError(formatIssue({ ...where, message } as Issue));
  }

  /** Wraps a ModelError (every issue, one line each) so the CLI prints it as a user error. */
  static fromModel(e: ModelError): PlanError {
    return new PlanError(e.message);
  }
}

/** A bad command line option (exit 2). */
export class UsageError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export { ModelError };
