/** What went wrong when talking to Slurm. */
export type SlurmErrorKind =
  /** a client command (sbatch, squeue, ...) is not installed or not on PATH */
  | 'missing'
  /** the command did not answer within the timeout (after the retries) */
  | 'timeout'
  /** the controller was busy or unreachable (after the retries) */
  | 'transient'
  /** the command failed: bad script, bad option, rejected job, ... */
  | 'failed'
  /** the command's output was not what was expected */
  | 'parse';

/**
 * A Slurm command failed. The message is one line naming the command and what it said on
 * stderr, e.g. `sbatch --parsable ... job.sh failed (exit 1): sbatch: error: invalid partition`.
 */
export class SlurmError extends Error {
  readonly kind: SlurmErrorKind;
  /** the command line, shortened, e.g. `squeue -h -t all -j 12,13 ...` */
  readonly command: string;
  /** the command's stderr (trimmed), if it ran */
  readonly stderr: string;
  /** its exit code, if it ran to an exit */
  readonly exitCode: number | undefined;

  constructor(
    kind: SlurmErrorKind,
    message: string,
    details: { command?: string; stderr?: string; exitCode?: number } = {},
  ) {
    super(message);
    this.name = 'SlurmError';
    this.kind = kind;
    this.command = details.command ?? '';
    this.stderr = details.stderr ?? '';
    this.exitCode = details.exitCode;
  }
}
