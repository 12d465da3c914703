/** Job states as Pegasus reports them (pegasus-status columns). */
export const JobState = {
  UNREADY: 0,
  READY: 1,
  PRE: 2,
  QUEUED: 3,
  RUNNING: 4,
  POST: 5,
  SUCCESS: 6,
  FAILURE: 7,
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export const JOB_STATE_NAMES = [
  'unready',
  'ready',
  'pre',
  'queued',
  'running',
  'post',
  'success',
  'failure',
] as const;

/** How one attempt ended, as the engine judges it. */
export type AttemptOutcome =
  /** the job did what it should (exit 0) */
  | 'success'
  /** it failed: counts against the job's retries */
  | 'failure'
  /** the batch system ended it at its time limit, or it drained for wall time: retried, not counted */
  | 'evicted'
  /** it vanished without a verdict (lost with a crashed engine, removed): retried, not counted */
  | 'lost';
