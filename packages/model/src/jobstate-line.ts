import { SUBMIT_FILES } from './submit-dir.js';

// jobstate.log, the workflow's journal in Pegasus's format: one line per job state change,
// `<epoch> <job> <EVENT> <field4> <site> <field6> <seq>`, and the engine's own lines
// `<epoch> INTERNAL *** DAGMAN_STARTED <pid> ***` / `... DAGMAN_FINISHED <exit> ***`. Written by
// the engine, read by the engine (its restart journal) and the monitor: one definition here.

/** The file in a submit dir. */
export const JOBSTATE_LOG = SUBMIT_FILES.jobstate;

/** The job events the engine writes (Pegasus's jobstate.log vocabulary). */
export type JobEvent =
  | 'SUBMIT'
  | 'GRID_SUBMIT'
  | 'EXECUTE'
  | 'JOB_TERMINATED'
  | 'JOB_SUCCESS'
  | 'JOB_FAILURE'
  | 'JOB_EVICTED'
  | 'JOB_ABORTED'
  | 'POST_SCRIPT_STARTED'
  | 'POST_SCRIPT_TERMINATED'
  | 'POST_SCRIPT_SUCCESS'
  | 'POST_SCRIPT_FAILURE';

/** A job line (with its newline). `field4`: scheduler id or exit code; `field6`: `-` mostly. */
export function jobstateJobLine(
  time: number,
  job: string,
  event: JobEvent,
  field4: string | number,
  site: string,
  seq: number,
  field6: string | number = '-',
): string {
  return `${time} ${job} ${event} ${field4} ${site} ${field6} ${seq}\n`;
}

/** A workflow line (with its newline): the engine started (`value`: its pid) or finished (its exit code). */
export function jobstateWorkflowLine(
  time: number,
  event: 'DAGMAN_STARTED' | 'DAGMAN_FINISHED',
  value: number,
): string {
  return `${time} INTERNAL *** ${event} ${value} ***\n`;
}

/** A workflow line of jobstate.log (`INTERNAL *** DAGMAN_STARTED <pid> ***`, `... DAGMAN_FINISHED <exit> ***`). */
export interface WorkflowEvent {
  kind: 'workflow';
  time: number;
  event: 'DAGMAN_STARTED' | 'DAGMAN_FINISHED' | 'MONITORD_STARTED' | 'MONITORD_FINISHED';
  /** pid (STARTED) or exit code (FINISHED); null when absent */
  value: number | null;
}

/** A job line as read: `<t> <job> <EVENT> <field4> <site> <field6> <seq>`. */
export interface JobEventLine {
  kind: 'job';
  time: number;
  job: string;
  event: string;
  field4: string;
  site: string;
  field6: string;
  seq: number;
}

/**
 * The job events that end an attempt, and how. `aborted` (removed, or lost in a crash) and
 * `evicted` (a batch time limit) attempts have no POST lines and do not use up a retry: the
 * engine runs the job again.
 */
export const FINAL_EVENTS: Readonly<Record<string, 'success' | 'failure' | 'evicted' | 'aborted'>> = {
  POST_SCRIPT_SUCCESS: 'success',
  POST_SCRIPT_FAILURE: 'failure',
  JOB_ABORTED: 'aborted',
  JOB_EVICTED: 'evicted',
  SUBMIT_FAILED: 'failure',
};

/**
 * Parses one jobstate.log line; undefined for a line that is neither (blank, or malformed: the
 * caller counts these and goes on, as monitord does).
 */
export function parseJobstateLine(line: string): WorkflowEvent | JobEventLine | undefined {
  const f = line.trim().split(/\s+/);
  if (f.length < 3) return undefined;
  const time = Number(f[0]);
  if (!Number.isFinite(time)) return undefined;
  if (f[1] === 'INTERNAL') {
    if (f[2] !== '***' || f.length < 4) return undefined;
    const event = f[3];
    if (
      event !== 'DAGMAN_STARTED' &&
      event !== 'DAGMAN_FINISHED' &&
      event !== 'MONITORD_STARTED' &&
      event !== 'MONITORD_FINISHED'
    )
      return undefined;
    const v = f.length > 5 ? Number(f[4]) : Number.NaN;
    return { kind: 'workflow', time, event, value: Number.isFinite(v) ? v : null };
  }
  if (f.length < 7) return undefined;
  const seq = Number(f[6]);
  if (!Number.isInteger(seq) || seq < 0) return undefined;
  return { kind: 'job', time, job: f[1], event: f[2], field4: f[3], site: f[4], field6: f[5], seq };
}
