/** Exit codes of `pegasus-ts mpi-cluster` (PMC's, plus 75 for a wall-time stop). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Stopped by --max-wall-time: the rescue log is complete; run again to resume. */
  wallTime: 75,
} as const;
