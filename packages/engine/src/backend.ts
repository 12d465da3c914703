import { join } from 'node:path';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import type { AttemptOutcome } from './job-state.js';
import type { PlanJob } from './plan-file.js';

/** Where one attempt's files go (absolute paths). */
export interface AttemptPaths {
  /** invocations/NAME.NNN.yml: the kickstart record of the attempt */
  record: string;
  /** jobs/NAME.out.NNN, jobs/NAME.err.NNN */
  stdout: string;
  stderr: string;
}

/** The files of attempt `seq` (1, 2, ...) of job `name` in `submitDir`: NNN = seq - 1, 3 digits. */
export function attemptPaths(submitDir: string, name: string, seq: number): AttemptPaths {
  const n = String(seq - 1).padStart(3, '0');
  return {
    record: join(submitDir, SUBMIT_FILES.invocations, `${name}.${n}.yml`),
    stdout: join(submitDir, 'jobs', `${name}.out.${n}`),
    stderr: join(submitDir, 'jobs', `${name}.err.${n}`),
  };
}

/** One attempt of one job, as the engine hands it to a backend. */
export interface Attempt {
  /** index of the job in the plan */
  index: number;
  job: PlanJob;
  /** submit sequence: 1 for the first attempt, counting up across retries and restarts */
  seq: number;
  paths: AttemptPaths;
}

/** How an attempt ended. */
export interface AttemptResult {
  outcome: AttemptOutcome;
  /** exit code (128+N when killed by signal N), -1 when unknown */
  exitCode: number;
  /** seconds from start to end, as the backend saw it */
  duration: number;
  /** why, in a few words (shown in engine.log and by the tools) */
  reason?: string;
}

/** What a backend tells the engine; the engine turns these into jobstate.log lines. */
export interface BackendEvents {
  /** accepted by a batch system (GRID_SUBMIT) */
  submitted(index: number, schedId: string): void;
  /** running (EXECUTE) */
  executing(index: number, schedId: string): void;
  /** over (JOB_TERMINATED, then the verdict) */
  ended(index: number, result: AttemptResult): void;
  /** something worth a line in engine.log */
  log(line: string): void;
}

/**
 * Runs attempts of jobs somewhere. One module per place (local, cluster, slurm, internal), each
 * small; the engine picks one per job from the plan. `start` and `adopt` never throw: whatever
 * goes wrong ends the attempt through `events.ended`.
 */
export interface Backend {
  readonly name: string;
  /** Whether one more attempt of `job` may start now (slots, CPUs). */
  hasRoom(job: PlanJob): boolean;
  start(attempt: Attempt): void;
  /**
   * Takes over an attempt that was in flight when an earlier engine stopped: watch it to its
   * end if it still runs, judge it from what it left if it ended, report `lost` if it never ran.
   * `schedId` is the pid or batch id the journal recorded, if any.
   */
  adopt(attempt: Attempt, schedId: string | undefined): void;
  /** Stops the attempt of job `index` (remove); its end still comes through `ended`. */
  cancel(index: number): void;
  /** Releases timers and the like once nothing runs. */
  close(): void;
}
