import { isAbsolute, join } from 'node:path';
import type { Db } from './database.js';
import { MonitorError } from './errors.js';
import { tailFile } from './internal/tail.js';

// Paged, ordered reads of the provenance DB for the service's REST API and dashboard. Every
// list answers `{ total, rows }` from one COUNT and one LIMIT/OFFSET query on an indexed key, so
// a page costs the same at ten jobs and at a million tasks.

/** A page of a list: rows from `start` (0-based), at most `max`, ordered by `order`. */
export interface PageRequest {
  start?: number;
  max?: number;
  /** a column of the list, `-column` for descending */
  order?: string;
}

export interface Page<T> {
  total: number;
  start: number;
  rows: T[];
}

/** The most rows a page may ask for. */
export const MAX_PAGE_ROWS = 10_000;

/** The job lists of the dashboard's tabs. */
export type JobFilter = 'all' | 'failed' | 'running' | 'successful' | 'failing';
export const JOB_FILTERS: readonly JobFilter[] = ['all', 'failed', 'running', 'successful', 'failing'];

const FAIL_STATES = "('POST_SCRIPT_FAILURE', 'SUBMIT_FAILED')";
const IDLE_STATES =
  "('POST_SCRIPT_SUCCESS', 'POST_SCRIPT_FAILURE', 'SUBMIT_FAILED', 'JOB_ABORTED', 'JOB_EVICTED')";

/** WHERE clauses of the job filters (as status/analyzer count them: a failed job will not be retried). */
function jobWhere(filter: JobFilter, running: boolean): string {
  const canRetry = running ? 'j.failures <= j.max_retries' : '0';
  switch (filter) {
    case 'all':
      return '1';
    case 'successful':
      return "j.state = 'POST_SCRIPT_SUCCESS'";
    case 'failed':
      return `j.state IN ${FAIL_STATES} AND NOT (${canRetry})`;
    case 'failing':
      return `j.failures > 0 AND j.state IS NOT NULL AND j.state != 'POST_SCRIPT_SUCCESS' AND NOT (j.state IN ${FAIL_STATES} AND NOT (${canRetry}))`;
    case 'running':
      return `j.state IS NOT NULL AND j.state NOT IN ${IDLE_STATES}`;
  }
}

/** `ORDER BY` for `order` among `columns` (API name -> SQL), default `fallback`; unknown names are refused. */
function orderBy(order: string | undefined, columns: Record<string, string>, fallback: string): string {
  if (order === undefined || order === '') return fallback;
  const desc = order.startsWith('-');
  const name = desc ? order.slice(1) : order;
  const col = Object.hasOwn(columns, name) ? columns[name] : undefined;
  if (col === undefined) {
    throw new MonitorError(
      `order '${order}': expected one of ${Object.keys(columns).join(', ')} (- for descending)`,
      2,
    );
  }
  return `${col} ${desc ? 'DESC' : 'ASC'}, ${fallback}`;
}

function limits(p: PageRequest): { start: number; max: number } {
  const start = p.start ?? 0;
  const max = p.max ?? 100;
  if (!Number.isInteger(start) || start < 0)
    throw new MonitorError(`start ${start}: expected an integer >= 0`, 2);
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE_ROWS)
    throw new MonitorError(`max ${max}: expected an integer from 1 to ${MAX_PAGE_ROWS}`, 2);
  return { start, max };
}

/** The table a list pages through: `table alias`, and its integer primary key. */
interface Base {
  table: string;
  alias: string;
  key: string;
}

/** Row counts of whole tables, by database and table, valid while the table's key range is the same. */
const tableCounts = new WeakMap<
  Db,
  Map<string, { lo: number; hi: number; n: number; more: Map<string, unknown> }>
>();

/**
 * The rows of a whole table: counted once, then again only when its key range changed (the
 * monitor only appends rows, so the same first and last key mean the same rows).
 */
function tableCount(db: Db, base: Base): { n: number; lo: number | null; more: Map<string, unknown> } {
  const k = db
    .prepare(
      // two subqueries: SQLite answers a lone min() or max() from the key's b-tree, both at once by a scan
      `SELECT (SELECT min(${base.key}) FROM ${base.table}) AS lo, (SELECT max(${base.key}) FROM ${base.table}) AS hi`,
    )
    .get() as {
    lo: number | null;
    hi: number | null;
  };
  if (k.lo === null || k.hi === null) return { n: 0, lo: null, more: new Map() };
  let byTable = tableCounts.get(db);
  if (!byTable) {
    byTable = new Map();
    tableCounts.set(db, byTable);
  }
  const cached = byTable.get(base.table);
  const dense = (n: number) => (k.hi! - k.lo! + 1 === n ? k.lo : null);
  if (cached && cached.lo === k.lo && cached.hi === k.hi)
    return { n: cached.n, lo: dense(cached.n), more: cached.more };
  const n = (db.prepare(`SELECT count(*) AS n FROM ${base.table}`).get() as { n: number }).n;
  const more = new Map<string, unknown>();
  byTable.set(base.table, { lo: k.lo, hi: k.hi, n, more });
  return { n, lo: dense(n), more };
}

/**
 * One page: `total` counted on the base table alone (no joins; a whole table's count is cached
 * while its key range stays the same), rows by LIMIT/OFFSET. The default order of an unfiltered
 * list (by primary key) on a table whose keys have no gaps (the monitor never deletes rows) is a
 * key range instead: O(log n) at any offset, not a walk over `start` rows.
 */
function page<T>(
  db: Db,
  from: string,
  where: string,
  params: unknown[],
  select: string,
  order: string,
  p: PageRequest,
  base?: Base,
): Page<T> {
  const { start, max } = limits(p);
  if (base && where === '1') {
    const { n: total, lo } = tableCount(db, base);
    if (lo !== null && (p.order === undefined || p.order === '')) {
      const key = `${base.alias}.${base.key}`;
      const rows = db
        .prepare(`SELECT ${select} FROM ${from} WHERE ${key} BETWEEN ? AND ? ORDER BY ${key}`)
        .all(lo + start, lo + start + max - 1) as T[];
      return { total, start, rows };
    }
    const rows = db
      .prepare(`SELECT ${select} FROM ${from} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(max, start) as T[];
    return { total, start, rows };
  }
  const countFrom = base ? `${base.table} ${base.alias}` : from;
  const total = (
    db.prepare(`SELECT count(*) AS n FROM ${countFrom} WHERE ${where}`).get(...params) as { n: number }
  ).n;
  const rows = db
    .prepare(`SELECT ${select} FROM ${from} WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(...params, max, start) as T[];
  return { total, start, rows };
}

export interface JobRow {
  jobId: number;
  name: string;
  type: string;
  transformation: string | null;
  site: string | null;
  clustered: number;
  taskCount: number;
  state: string | null;
  stateTime: number | null;
  failures: number;
  maxRetries: number;
  tries: number;
  lastInstanceId: number | null;
}

const JOB_COLUMNS = {
  id: 'j.job_id',
  name: 'j.exec_job_id',
  type: 'j.type_desc',
  state: 'j.state',
  stateTime: 'j.state_time',
  failures: 'j.failures',
  transformation: 'j.transformation',
};

/** The jobs (one of the dashboard's tabs), paged and ordered. `running`: the workflow is running. */
export function listJobs(db: Db, filter: JobFilter, running: boolean, p: PageRequest = {}): Page<JobRow> {
  return page<JobRow>(
    db,
    'job j',
    jobWhere(filter, running),
    [],
    `j.job_id AS jobId, j.exec_job_id AS name, j.type_desc AS type, j.transformation, j.site, j.clustered,
     j.task_count AS taskCount, j.state, j.state_time AS stateTime, j.failures, j.max_retries AS maxRetries,
     j.last_seq AS tries,
     (SELECT ji.job_instance_id FROM job_instance ji WHERE ji.job_id = j.job_id ORDER BY ji.job_submit_seq DESC LIMIT 1) AS lastInstanceId`,
    orderBy(p.order, JOB_COLUMNS, 'j.job_id'),
    p,
    { table: 'job', alias: 'j', key: 'job_id' },
  );
}

/** One job by id or exec job name, or undefined. */
export function findJob(db: Db, idOrName: number | string): JobRow | undefined {
  const r = listJobsWhere(db, typeof idOrName === 'number' ? 'j.job_id = ?' : 'j.exec_job_id = ?', [
    idOrName,
  ]);
  return r[0];
}

function listJobsWhere(db: Db, where: string, params: unknown[]): JobRow[] {
  return page<JobRow>(
    db,
    'job j',
    where,
    params,
    `j.job_id AS jobId, j.exec_job_id AS name, j.type_desc AS type, j.transformation, j.site, j.clustered,
     j.task_count AS taskCount, j.state, j.state_time AS stateTime, j.failures, j.max_retries AS maxRetries,
     j.last_seq AS tries,
     (SELECT ji.job_instance_id FROM job_instance ji WHERE ji.job_id = j.job_id ORDER BY ji.job_submit_seq DESC LIMIT 1) AS lastInstanceId`,
    'j.job_id',
    { max: 1 },
  ).rows;
}

export interface JobInstanceRow {
  jobInstanceId: number;
  jobId: number;
  jobName: string;
  try: number;
  site: string | null;
  hostname: string | null;
  schedId: string | null;
  workDir: string | null;
  exitcode: number | null;
  submitTime: number | null;
  executeTime: number | null;
  endTime: number | null;
  duration: number | null;
  state: string | null;
  final: string | null;
  stdoutFile: string | null;
  stderrFile: string | null;
}

const INSTANCE_SELECT = `ji.job_instance_id AS jobInstanceId, ji.job_id AS jobId, j.exec_job_id AS jobName,
  ji.job_submit_seq AS try, ji.site, h.hostname, ji.sched_id AS schedId, ji.work_dir AS workDir, ji.exitcode,
  ji.submit_time AS submitTime, ji.execute_time AS executeTime, ji.end_time AS endTime,
  ji.local_duration AS duration, ji.state, ji.final, ji.stdout_file AS stdoutFile, ji.stderr_file AS stderrFile`;
const INSTANCE_FROM =
  'job_instance ji JOIN job j ON j.job_id = ji.job_id LEFT JOIN host h ON h.host_id = ji.host_id';
const INSTANCE_COLUMNS = {
  id: 'ji.job_instance_id',
  job: 'j.exec_job_id',
  try: 'ji.job_submit_seq',
  submitTime: 'ji.submit_time',
  endTime: 'ji.end_time',
  duration: 'ji.local_duration',
  exitcode: 'ji.exitcode',
};

/** Job instances (attempts), of one job or all, paged and ordered. */
export function listJobInstances(
  db: Db,
  jobId: number | undefined,
  p: PageRequest = {},
): Page<JobInstanceRow> {
  return page<JobInstanceRow>(
    db,
    INSTANCE_FROM,
    jobId === undefined ? '1' : 'ji.job_id = ?',
    jobId === undefined ? [] : [jobId],
    INSTANCE_SELECT,
    orderBy(p.order, INSTANCE_COLUMNS, 'ji.job_instance_id'),
    p,
    { table: 'job_instance', alias: 'ji', key: 'job_instance_id' },
  );
}

export interface StateChange {
  state: string;
  timestamp: number;
  /** seconds since the previous state (null for the first) */
  sincePrevious: number | null;
  reason: string | null;
}

export interface InvocationRow {
  invocationId: number;
  jobInstanceId: number;
  taskSubmitSeq: number;
  taskId: number | null;
  absTaskId: string | null;
  transformation: string | null;
  executable: string | null;
  argv: string | null;
  startTime: number | null;
  duration: number | null;
  cpuTime: number | null;
  exitcode: number | null;
  exitCode: number | null;
  signal: number | null;
  maxrss: number | null;
  hostname: string | null;
  workDir: string | null;
  recordFile: string | null;
}

export interface JobInstanceDetail extends JobInstanceRow {
  states: StateChange[];
  /** the kickstart record(s): the job's own (seq 0 or 1) first, then the tasks' (clustered) */
  invocations: (InvocationRow & { stdout: string | null; stderr: string | null })[];
  /** invocations beyond those listed (a clustered job with many tasks) */
  moreInvocations: number;
  /** the last lines of the job's stdout/stderr files (null when missing) */
  stdoutTail: string | null;
  stderrTail: string | null;
  /** clustered: its tasks that failed (last try), at most `taskLimit` */
  failedTasks: InvocationRow[];
  failedTaskCount: number;
}

const INVOCATION_SELECT = `i.invocation_id AS invocationId, i.job_instance_id AS jobInstanceId,
  i.task_submit_seq AS taskSubmitSeq, i.task_id AS taskId, coalesce(t.abs_task_id, i.abs_task_id) AS absTaskId,
  coalesce(i.transformation, t.transformation) AS transformation,
  i.executable, i.argv, i.start_time AS startTime, i.remote_duration AS duration,
  i.remote_cpu_time AS cpuTime, i.exitcode, i.exit_code AS exitCode, i.signal, i.maxrss, h.hostname,
  i.work_dir AS workDir, i.record_file AS recordFile`;
const INVOCATION_FROM =
  'invocation i LEFT JOIN host h ON h.host_id = i.host_id LEFT JOIN task t ON t.task_id = i.task_id';

/** One job instance with its state history, kickstart records, output tails and failed tasks; undefined if unknown. */
export function jobInstanceDetail(
  db: Db,
  submitDir: string,
  jobInstanceId: number,
  options: { invocationLimit?: number; tailLines?: number; taskLimit?: number } = {},
): JobInstanceDetail | undefined {
  const inst = db
    .prepare(`SELECT ${INSTANCE_SELECT} FROM ${INSTANCE_FROM} WHERE ji.job_instance_id = ?`)
    .get(jobInstanceId) as JobInstanceRow | undefined;
  if (!inst) return undefined;
  let prev: number | null = null;
  const states = (
    db
      .prepare(
        'SELECT state, timestamp, reason FROM jobstate WHERE job_instance_id = ? ORDER BY timestamp, jobstate_submit_seq',
      )
      .all(jobInstanceId) as { state: string; timestamp: number; reason: string | null }[]
  ).map((s) => {
    const change = { ...s, sincePrevious: prev === null ? null : s.timestamp - prev };
    prev = s.timestamp;
    return change;
  });
  const limit = options.invocationLimit ?? 20;
  const invocations = db
    .prepare(
      `SELECT ${INVOCATION_SELECT}, i.stdout_text AS stdout, i.stderr_text AS stderr FROM ${INVOCATION_FROM}
       WHERE i.job_instance_id = ? ORDER BY i.task_submit_seq, i.invocation_id LIMIT ?`,
    )
    .all(jobInstanceId, limit) as (InvocationRow & { stdout: string | null; stderr: string | null })[];
  const nInv = (
    db.prepare('SELECT count(*) AS n FROM invocation WHERE job_instance_id = ?').get(jobInstanceId) as {
      n: number;
    }
  ).n;
  const failedWhere = `i.job_instance_id = ? AND i.task_id IS NOT NULL AND i.exitcode != 0 AND NOT EXISTS (
      SELECT 1 FROM invocation k WHERE k.job_instance_id = i.job_instance_id AND k.task_id = i.task_id
      AND k.invocation_id > i.invocation_id)`;
  const failedTasks = db
    .prepare(
      `SELECT ${INVOCATION_SELECT} FROM ${INVOCATION_FROM} WHERE ${failedWhere} ORDER BY i.task_id LIMIT ?`,
    )
    .all(jobInstanceId, options.taskLimit ?? 50) as InvocationRow[];
  const failedTaskCount = (
    db.prepare(`SELECT count(*) AS n FROM invocation i WHERE ${failedWhere}`).get(jobInstanceId) as {
      n: number;
    }
  ).n;
  const lines = options.tailLines ?? 30;
  const tail = (f: string | null) => (f ? tailFile(isAbsolute(f) ? f : join(submitDir, f), lines) : null);
  return {
    ...inst,
    states,
    invocations,
    moreInvocations: Math.max(0, nInv - invocations.length),
    stdoutTail: tail(inst.stdoutFile),
    stderrTail: tail(inst.stderrFile),
    failedTasks,
    failedTaskCount,
  };
}

export interface TaskRow {
  taskId: number;
  jobId: number | null;
  jobName: string | null;
  index: number;
  absTaskId: string | null;
  name: string | null;
  transformation: string | null;
  argv: string | null;
  type: string | null;
}

/** Tasks (of one job, or all), paged and ordered. */
export function listTasks(db: Db, jobId: number | undefined, p: PageRequest = {}): Page<TaskRow> {
  let where = '1';
  let params: unknown[] = [];
  if (jobId !== undefined) {
    // a job's tasks were stored together: a key range (there is no index on task.job_id)
    const j = db
      .prepare('SELECT first_task_id AS first, task_count AS n FROM job WHERE job_id = ?')
      .get(jobId) as { first: number | null; n: number } | undefined;
    where = j?.first != null ? 't.task_id >= ? AND t.task_id < ? AND t.job_id = ?' : 't.job_id = ?';
    params = j?.first != null ? [j.first, j.first + j.n, jobId] : [jobId];
  }
  return page<TaskRow>(
    db,
    'task t LEFT JOIN job j ON j.job_id = t.job_id',
    where,
    params,
    `t.task_id AS taskId, t.job_id AS jobId, j.exec_job_id AS jobName, t.task_index AS "index",
     t.abs_task_id AS absTaskId, t.name, t.transformation, t.argv, t.type_desc AS type`,
    orderBy(
      p.order,
      { id: 't.task_id', index: 't.task_index', transformation: 't.transformation' },
      't.task_id',
    ),
    p,
    { table: 'task', alias: 't', key: 'task_id' },
  );
}

/** Invocations (kickstart records; of one job instance, or all), paged and ordered. */
export function listInvocations(
  db: Db,
  jobInstanceId: number | undefined,
  p: PageRequest = {},
): Page<InvocationRow> {
  return page<InvocationRow>(
    db,
    INVOCATION_FROM,
    jobInstanceId === undefined ? '1' : 'i.job_instance_id = ?',
    jobInstanceId === undefined ? [] : [jobInstanceId],
    INVOCATION_SELECT,
    orderBy(
      p.order,
      {
        id: 'i.invocation_id',
        startTime: 'i.start_time',
        duration: 'i.remote_duration',
        exitcode: 'i.exitcode',
        transformation: 'transformation',
      },
      'i.invocation_id',
    ),
    p,
    { table: 'invocation', alias: 'i', key: 'invocation_id' },
  );
}

export interface HostRow {
  hostId: number;
  site: string | null;
  hostname: string | null;
  ip: string | null;
  uname: string | null;
  totalMemory: number | null;
}

/** The hosts jobs ran on, paged and ordered. */
export function listHosts(db: Db, p: PageRequest = {}): Page<HostRow> {
  return page<HostRow>(
    db,
    'host',
    '1',
    [],
    'host_id AS hostId, site, hostname, ip, uname, total_memory AS totalMemory',
    orderBy(p.order, { id: 'host_id', hostname: 'hostname', site: 'site' }, 'host_id'),
    p,
    { table: 'host', alias: 'host', key: 'host_id' },
  );
}

export interface TransformationShare {
  transformation: string;
  count: number;
  failed: number;
  /** seconds (kickstart durations) */
  time: number;
}

/** Invocations per transformation: how many, how many failed, how much time (the distribution charts). */
export function jobDistribution(db: Db): TransformationShare[] {
  return db
    .prepare(
      `SELECT coalesce(i.transformation, t.transformation, j.transformation, '-') AS transformation,
         count(*) AS count, coalesce(sum(i.exitcode != 0), 0) AS failed, coalesce(sum(i.remote_duration), 0) AS time
       FROM invocation i LEFT JOIN task t ON t.task_id = i.task_id
       JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
       GROUP BY 1 ORDER BY 1`,
    )
    .all() as TransformationShare[];
}

export interface TimeBucket {
  /** bucket start, seconds since the epoch */
  time: number;
  /** job attempts that ended in the bucket */
  jobs: number;
  /** invocations that ended in the bucket */
  invocations: number;
}

/** Job attempts and invocations ending per time bucket (at most about `buckets` of them). */
export function jobsOverTime(db: Db, buckets = 100): { bucketSeconds: number; rows: TimeBucket[] } {
  const span = db
    .prepare(
      `SELECT min(t) AS t0, max(t) AS t1 FROM (
         SELECT min(end_time) AS t FROM job_instance UNION ALL SELECT max(end_time) FROM job_instance
         UNION ALL SELECT min(start_time + remote_duration) FROM invocation
         UNION ALL SELECT max(start_time + remote_duration) FROM invocation)`,
    )
    .get() as { t0: number | null; t1: number | null };
  if (span.t0 === null || span.t1 === null) return { bucketSeconds: 1, rows: [] };
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  const bucketSeconds = steps.find((s) => (span.t1! - span.t0!) / s <= buckets) ?? 86400 * 7;
  const t0 = Math.floor(span.t0 / bucketSeconds) * bucketSeconds;
  const by = new Map<number, TimeBucket>();
  const at = (k: number) => {
    let b = by.get(k);
    if (!b) {
      b = { time: t0 + k * bucketSeconds, jobs: 0, invocations: 0 };
      by.set(k, b);
    }
    return b;
  };
  for (const r of db
    .prepare(
      'SELECT CAST((end_time - ?) / ? AS INTEGER) AS k, count(*) AS n FROM job_instance WHERE end_time IS NOT NULL GROUP BY 1',
    )
    .all(t0, bucketSeconds) as { k: number; n: number }[])
    at(r.k).jobs = r.n;
  for (const r of db
    .prepare(
      `SELECT CAST((start_time + coalesce(remote_duration, 0) - ?) / ? AS INTEGER) AS k, count(*) AS n
       FROM invocation WHERE start_time IS NOT NULL GROUP BY 1`,
    )
    .all(t0, bucketSeconds) as { k: number; n: number }[])
    at(r.k).invocations = r.n;
  const last = Math.max(...by.keys());
  const rows: TimeBucket[] = [];
  for (let k = 0; k <= last; k++)
    rows.push(by.get(k) ?? { time: t0 + k * bucketSeconds, jobs: 0, invocations: 0 });
  return { bucketSeconds, rows };
}

/** One bar of the Gantt chart: one job attempt, or (grouped) consecutive attempts. */
export interface GanttBar {
  /** first job instance id of the bar */
  first: number;
  /** last job instance id of the bar (== first for one attempt) */
  last: number;
  /** a job name, or `NAME ... NAME (n attempts)` for a group */
  label: string;
  count: number;
  failed: number;
  submit: number | null;
  execute: number | null;
  end: number | null;
}

const JOB_INSTANCES: Base = { table: 'job_instance', alias: 'ji', key: 'job_instance_id' };

/** A page of Gantt bars; `origin`: the first submit time of the whole run (the chart's time zero). */
export interface GanttPage extends Page<GanttBar> {
  origin: number | null;
}

/**
 * The Gantt chart's bars: with `groups`, the job attempts (in id order, from `start`) folded into
 * at most `groups` bars of consecutive attempts (the whole run at a glance, however many jobs);
 * without, one bar per attempt for a page (`max` attempts; grouped without `max`: all of them). Either way the client draws at most a few hundred bars.
 */
export function ganttBars(db: Db, p: PageRequest & { groups?: number } = {}): GanttPage {
  const { start, max } = limits(p);
  const { n: total, lo, more } = tableCount(db, JOB_INSTANCES);
  if (!more.has('origin')) {
    more.set(
      'origin',
      (db.prepare('SELECT min(submit_time) AS t FROM job_instance').get() as { t: number | null }).t,
    );
  }
  const origin = more.get('origin') as number | null;
  const groups = p.groups;
  if (groups !== undefined && (!Number.isInteger(groups) || groups < 1 || groups > 1000))
    throw new MonitorError(`groups ${groups}: expected an integer from 1 to 1000`, 2);
  // grouped without a page size: every attempt from `start` on
  const n = groups !== undefined && p.max === undefined ? total - start : Math.min(max, total - start);
  if (n <= 0) return { total, start, origin, rows: [] };
  // the attempts from..from+n-1 in id order: a key range when the ids have no gaps
  const first =
    lo ??
    (
      db.prepare('SELECT job_instance_id AS id FROM job_instance ORDER BY 1 LIMIT 1 OFFSET ?').get(start) as {
        id: number;
      }
    ).id;
  const range = lo !== null ? { from: lo + start, to: lo + start + n - 1 } : undefined;
  if (groups === undefined) {
    const rows = db
      .prepare(
        `SELECT ji.job_instance_id AS first, ji.job_instance_id AS last, j.exec_job_id AS label, 1 AS count,
           (ji.final = 'failure') AS failed, ji.submit_time AS submit, ji.execute_time AS execute, ji.end_time AS "end"
         FROM job_instance ji JOIN job j ON j.job_id = ji.job_id
         WHERE ${range ? 'ji.job_instance_id BETWEEN ? AND ?' : 'ji.job_instance_id >= ?'}
         ORDER BY ji.job_instance_id LIMIT ?`,
      )
      .all(...(range ? [range.from, range.to] : [first]), n) as GanttBar[];
    return { total, start, origin, rows };
  }
  // the folded chart of a run that did not move since the last request is the same chart
  const mark = db
    .prepare(
      'SELECT (SELECT max(rowid) FROM jobstate) AS js, (SELECT max(invocation_id) FROM invocation) AS inv',
    )
    .get() as { js: number | null; inv: number | null };
  const cacheKey = `gantt:${groups}:${start}:${n}`;
  const markText = `${mark.js}:${mark.inv}`;
  const cached = more.get(cacheKey) as { mark: string; page: GanttPage } | undefined;
  if (cached?.mark === markText) return cached.page;
  const per = Math.ceil(n / groups);
  // groups of `per` consecutive attempts: by id arithmetic on a key range, else by row number
  const source = range
    ? `SELECT job_instance_id AS id, final, submit_time, execute_time, end_time,
         (job_instance_id - ${range.from}) / ${per} AS g
       FROM job_instance WHERE job_instance_id BETWEEN ${range.from} AND ${range.to}`
    : `SELECT job_instance_id AS id, final, submit_time, execute_time, end_time,
         (row_number() OVER (ORDER BY job_instance_id) - 1) / ${per} AS g
       FROM job_instance WHERE job_instance_id >= ${first} ORDER BY job_instance_id LIMIT ${n}`;
  const rows = db
    .prepare(
      `SELECT min(id) AS first, max(id) AS last, count(*) AS count, coalesce(sum(final = 'failure'), 0) AS failed,
         min(submit_time) AS submit, min(execute_time) AS execute, max(end_time) AS "end"
       FROM (${source}) GROUP BY g ORDER BY g`,
    )
    .all() as Omit<GanttBar, 'label'>[];
  const name = db.prepare(
    'SELECT j.exec_job_id AS name FROM job_instance ji JOIN job j ON j.job_id = ji.job_id WHERE ji.job_instance_id = ?',
  );
  const nameOf = (id: number) => (name.get(id) as { name: string } | undefined)?.name ?? String(id);
  const page: GanttPage = {
    total,
    start,
    origin,
    rows: rows.map((r) => ({
      ...r,
      label: r.count === 1 ? nameOf(r.first) : `${nameOf(r.first)} ... ${nameOf(r.last)} (${r.count})`,
    })),
  };
  more.set(cacheKey, { mark: markText, page });
  return page;
}

export interface WorkflowHeader {
  wfId: number;
  wfUuid: string;
  label: string | null;
  submitHost: string | null;
  submitDir: string | null;
  user: string | null;
  plannerVersion: string | null;
  timestamp: string | null;
  parentWfId: number | null;
}

/** The workflows of the database: the root (wf_id 1) and its sub-workflows, if any. */
export function listWorkflows(db: Db): WorkflowHeader[] {
  return db
    .prepare(
      `SELECT wf_id AS wfId, wf_uuid AS wfUuid, dax_label AS label, submit_hostname AS submitHost,
         submit_dir AS submitDir, user, planner_version AS plannerVersion, timestamp, parent_wf_id AS parentWfId
       FROM workflow ORDER BY wf_id`,
    )
    .all() as WorkflowHeader[];
}
