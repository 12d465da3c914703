import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_FILES, startedBefore } from '@pegasus-ts/model';
import type { Db } from './database.js';

/** Where the workflow stands, from workflowstate (DAGMAN_STARTED/FINISHED lines). */
export interface WorkflowRun {
  /** Running, Success, Failure (Pegasus's words), or Planned (never started) */
  state: 'Planned' | 'Running' | 'Success' | 'Failure';
  /** the last DAGMAN_FINISHED exit code (null while running or never finished) */
  status: number | null;
  /** engine starts */
  starts: number;
  /** the last start ended without DAGMAN_FINISHED and its engine is gone (kill -9, crash) */
  lost: boolean;
  firstStart: number | null;
  lastEnd: number | null;
  /** sum of start->finish intervals (an open one counts up to now, or to the last event if lost) */
  wallTime: number;
}

/**
 * The run's state in words, one wording for status and analyzer: `Planned`, `Running`,
 * `Success`, `Failure`, and for a run that did not end on its own `Failure (stopped)` (remove or
 * a signal; DAGMAN_FINISHED 2) or `Failure (engine gone)` (the engine died without finishing).
 */
export function runStateText(run: WorkflowRun): string {
  if (run.lost) return `${run.state} (engine gone)`;
  if (run.status === 2) return `${run.state} (stopped)`;
  return run.state;
}

export interface WorkflowInfo {
  wfUuid: string;
  label: string;
  submitDir: string;
  user: string | null;
  plannerVersion: string | null;
  jobCount: number;
  taskCount: number;
}

export function workflowInfo(db: Db): WorkflowInfo {
  const r = db
    .prepare(
      'SELECT wf_uuid, dax_label, submit_dir, user, planner_version, job_count, task_count FROM workflow WHERE wf_id = 1',
    )
    .get() as
    | {
        wf_uuid: string;
        dax_label: string;
        submit_dir: string;
        user: string | null;
        planner_version: string | null;
        job_count: number;
        task_count: number;
      }
    | undefined;
  return {
    wfUuid: r?.wf_uuid ?? '',
    label: r?.dax_label ?? '',
    submitDir: r?.submit_dir ?? '',
    user: r?.user ?? null,
    plannerVersion: r?.planner_version ?? null,
    jobCount: r?.job_count ?? 0,
    taskCount: r?.task_count ?? 0,
  };
}

/**
 * Whether the engine that wrote its pid at `writtenMs` still runs: the pid is alive and its
 * process started no later than that (a process started after merely reuses the pid of an
 * engine that is gone; on a busy machine pids wrap within minutes).
 */
function engineAlive(pid: number | null, writtenMs: number): boolean {
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return startedBefore(pid, writtenMs);
}

/** The pid in engine.pid and when that file was written (ms), if it exists. */
function enginePid(submitDir: string): { pid: number; writtenMs: number } | null {
  const path = join(submitDir, SUBMIT_FILES.engineLock);
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) ? { pid: n, writtenMs: statSync(path).mtimeMs } : null;
  } catch {
    return null;
  }
}

export function workflowRun(db: Db, submitDir: string, now = Date.now() / 1000): WorkflowRun {
  const rows = db.prepare('SELECT state, timestamp, status, pid FROM workflowstate ORDER BY id').all() as {
    state: string;
    timestamp: number;
    status: number | null;
    pid: number | null;
  }[];
  let starts = 0;
  let wall = 0;
  let open: { t: number; pid: number | null } | null = null;
  let status: number | null = null;
  let firstStart: number | null = null;
  let lastEnd: number | null = null;
  for (const r of rows) {
    if (r.state === 'WORKFLOW_STARTED') {
      starts++;
      firstStart ??= r.timestamp;
      if (open) wall += Math.max(0, r.timestamp - open.t); // a start without finish: up to the restart
      open = { t: r.timestamp, pid: r.pid };
      status = null;
    } else {
      if (open) wall += Math.max(0, r.timestamp - open.t);
      open = null;
      status = r.status;
      lastEnd = r.timestamp;
    }
  }
  if (starts === 0)
    return { state: 'Planned', status: null, starts, lost: false, firstStart, lastEnd, wallTime: 0 };
  if (open) {
    // the engine of the open start: engine.pid, else the pid its DAGMAN_STARTED line names
    const holder = enginePid(submitDir) ?? { pid: open.pid, writtenMs: open.t * 1000 + 999 };
    if (engineAlive(holder.pid, holder.writtenMs)) {
      return {
        state: 'Running',
        status: null,
        starts,
        lost: false,
        firstStart,
        lastEnd,
        wallTime: wall + now - open.t,
      };
    }
    const last = (db.prepare('SELECT max(timestamp) AS t FROM jobstate').get() as { t: number | null }).t;
    const end = Math.max(open.t, last ?? open.t);
    return {
      state: 'Failure',
      status: null,
      starts,
      lost: true,
      firstStart,
      lastEnd: end,
      wallTime: wall + end - open.t,
    };
  }
  return {
    state: status === 0 ? 'Success' : 'Failure',
    status,
    starts,
    lost: false,
    firstStart,
    lastEnd,
    wallTime: wall,
  };
}
