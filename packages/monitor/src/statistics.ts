import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BufferedWriter } from '@pegasus-ts/io';
import type { Db } from './database.js';
import { formatDuration, formatTable } from './format.js';
import { renderGantt } from './gantt.js';
import { jobCategory } from './job-category.js';
import { mapSubWorkflows } from './sub-workflows.js';
import { type WorkflowRun, workflowInfo, workflowRun } from './workflow-state.js';

export interface CountRow {
  succeeded: number;
  failed: number;
  incomplete: number;
  total: number;
  retries: number;
  totalRetries: number;
}

export interface Summary {
  run: WorkflowRun;
  tasks: CountRow;
  /** Every job but the sub-workflow jobs (those are `subWorkflows`), as pegasus-statistics counts. */
  jobs: CountRow;
  subWorkflows: CountRow;
  workflowWallTime: number;
  cumulativeJobWallTime: number;
  cumulativeJobWallTimeSubmitSide: number;
  badput: number;
  badputSubmitSide: number;
  /**
   * The workflows summed (querySummaryTree): this one (`path` '') and every planned sub-workflow
   * below it (`path` = the job path, `a/b`), each with its own three rows; absent from querySummary.
   */
  workflows?: WorkflowCounts[];
}

/** One workflow's rows in a hierarchical run's summary. */
export interface WorkflowCounts {
  path: string;
  label: string;
  tasks: CountRow;
  jobs: CountRow;
  subWorkflows: CountRow;
}

const row = (succeeded: number, failed: number, total: number, retries: number): CountRow => ({
  succeeded,
  failed,
  incomplete: total - succeeded - failed,
  total,
  retries,
  totalRetries: succeeded + failed + retries,
});

/** The summary numbers, aggregated in SQL (a few scans, no rows loaded). */
export function querySummary(db: Db, submitDir: string): Summary {
  const run = workflowRun(db, submitDir);
  const running = run.state === 'Running';
  const totalTasks = (db.prepare('SELECT count(*) AS n FROM task').get() as { n: number }).n;
  const t = db
    .prepare(
      `SELECT count(*) AS tasks, coalesce(sum(ok), 0) AS ok, coalesce(sum(tries), 0) AS tries
       FROM (SELECT max(exitcode = 0) AS ok, count(*) AS tries FROM invocation WHERE task_id IS NOT NULL GROUP BY task_id)`,
    )
    .get() as { tasks: number; ok: number; tries: number };
  const tasks = row(t.ok, t.tasks - t.ok, totalTasks, t.tries - t.tasks);
  const jobs = countJobs(db, running, "WHERE type_desc != 'sub-workflow'");
  const subWorkflows = countJobs(db, running, "WHERE type_desc = 'sub-workflow'");
  // a sub-workflow job's time is the time of the jobs below it: counted there, not twice
  const inst = db
    .prepare(
      `SELECT coalesce(sum(local_duration * multiplier_factor), 0) AS submit_side,
         coalesce(sum(CASE WHEN final = 'failure' THEN local_duration * multiplier_factor END), 0) AS bad_submit_side
       FROM job_instance WHERE job_id NOT IN (SELECT job_id FROM job WHERE type_desc = 'sub-workflow')`,
    )
    .get() as { submit_side: number; bad_submit_side: number };
  const ks = db
    .prepare(
      `SELECT coalesce(sum(i.remote_duration * ji.multiplier_factor), 0) AS total,
         coalesce(sum(CASE WHEN ji.final = 'failure' THEN i.remote_duration * ji.multiplier_factor END), 0) AS bad
       FROM invocation i JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id
       WHERE i.task_submit_seq >= 1
         AND ji.job_id NOT IN (SELECT job_id FROM job WHERE type_desc = 'sub-workflow')`,
    )
    .get() as { total: number; bad: number };
  return {
    run,
    tasks,
    jobs: row(jobs.ok, jobs.failed, jobs.total, jobs.retries),
    subWorkflows: row(subWorkflows.ok, subWorkflows.failed, subWorkflows.total, subWorkflows.retries),
    workflowWallTime: run.wallTime,
    cumulativeJobWallTime: ks.total,
    cumulativeJobWallTimeSubmitSide: inst.submit_side,
    badput: ks.bad,
    badputSubmitSide: inst.bad_submit_side,
  };
}

/**
 * The summary of a hierarchical run, as pegasus-statistics gives it: tasks, jobs and sub-workflow
 * jobs of every level summed (each planned sub-workflow's database brought up to date first), and
 * so the cumulative job times; the workflow wall time is this workflow's (its sub-workflows run
 * inside it). `workflows` keeps each level's own rows. A workflow without sub-workflows gives
 * querySummary's numbers.
 */
export async function querySummaryTree(
  db: Db,
  submitDir: string,
  seen?: ReadonlySet<string>,
  path = '',
): Promise<Summary> {
  const top = querySummary(db, submitDir);
  const own: WorkflowCounts = {
    path,
    label: workflowInfo(db).label,
    tasks: top.tasks,
    jobs: top.jobs,
    subWorkflows: top.subWorkflows,
  };
  const below = await mapSubWorkflows(
    db,
    submitDir,
    (sub, subDb, above) => querySummaryTree(subDb, sub.dir, above, `${path}${sub.job}/`),
    seen,
  );
  const sum: Summary = { ...top, workflows: [own] };
  for (const b of below) {
    sum.tasks = addRows(sum.tasks, b.tasks);
    sum.jobs = addRows(sum.jobs, b.jobs);
    sum.subWorkflows = addRows(sum.subWorkflows, b.subWorkflows);
    sum.cumulativeJobWallTime += b.cumulativeJobWallTime;
    sum.cumulativeJobWallTimeSubmitSide += b.cumulativeJobWallTimeSubmitSide;
    sum.badput += b.badput;
    sum.badputSubmitSide += b.badputSubmitSide;
    sum.workflows?.push(...(b.workflows ?? []));
  }
  return sum;
}

const addRows = (a: CountRow, b: CountRow): CountRow => ({
  succeeded: a.succeeded + b.succeeded,
  failed: a.failed + b.failed,
  incomplete: a.incomplete + b.incomplete,
  total: a.total + b.total,
  retries: a.retries + b.retries,
  totalRetries: a.totalRetries + b.totalRetries,
});

/** Jobs (those `where` selects) by how they stand: succeeded, failed for good, in all, and retries. */
function countJobs(
  db: Db,
  running: boolean,
  where: string,
): { ok: number; failed: number; total: number; retries: number } {
  const out = { ok: 0, failed: 0, total: 0, retries: 0 };
  for (const g of db
    .prepare(
      `SELECT state, failures <= max_retries AS can_retry, count(*) AS n FROM job ${where} GROUP BY 1, 2`,
    )
    .all() as { state: string | null; can_retry: number; n: number }[]) {
    out.total += g.n;
    const c = jobCategory(g.state, g.can_retry === 1, running);
    if (c === 'DONE') out.ok += g.n;
    else if (c === 'FAIL') out.failed += g.n;
  }
  const r = db
    .prepare(
      `SELECT count(*) - count(DISTINCT ji.job_id) AS n FROM job_instance ji
       WHERE ji.job_id IN (SELECT job_id FROM job ${where})`,
    )
    .get() as { n: number };
  out.retries = r.n;
  return out;
}

const LEGEND = `#
# Pegasus-TS Workflow Statistics
#
# Type           : type of entity (tasks, jobs, sub-workflows); a hierarchical workflow's
#                  numbers sum every level (its sub-workflows and theirs)
# Succeeded      : entities that ended successfully
# Failed         : entities that ended in failure
# Incomplete     : entities that never ran or did not finish (Total - Succeeded - Failed)
# Total          : Succeeded + Failed + Incomplete
# Retries        : extra attempts (job retries; task tries inside clustered jobs)
# Total+Retries  : Succeeded + Failed + Retries
#
# Workflow wall time       : engine start to end, summed over restarts
# Cumulative job wall time : sum of the kickstart durations (x pegasus cores), retries included
# ... as seen from submit side : sum of the durations the engine observed (x pegasus cores)
# Cumulative job badput    : the same sums over failed job attempts
#
`;

/** summary.txt / stdout text, laid out like pegasus-statistics. */
export function formatSummary(s: Summary): string {
  const line = '-'.repeat(78);
  const r = (name: string, c: CountRow) =>
    `${name.padEnd(15)}${String(c.succeeded).padEnd(10)}${String(c.failed).padEnd(8)}${String(c.incomplete).padEnd(12)}${String(c.total).padEnd(10)}${String(c.retries).padEnd(10)}${c.totalRetries}`;
  const kv = (k: string, v: string) => `${k.padEnd(57)}: ${v}`;
  return [
    LEGEND.trimEnd(),
    line,
    `${'Type'.padEnd(15)}${'Succeeded'.padEnd(10)}${'Failed'.padEnd(8)}${'Incomplete'.padEnd(12)}${'Total'.padEnd(10)}${'Retries'.padEnd(10)}Total+Retries`,
    r('Tasks', s.tasks),
    r('Jobs', s.jobs),
    r('Sub-Workflows', s.subWorkflows),
    line,
    '',
    kv('Workflow wall time', formatDuration(s.workflowWallTime)),
    kv('Cumulative job wall time', formatDuration(s.cumulativeJobWallTime)),
    kv(
      'Cumulative job wall time as seen from submit side',
      formatDuration(s.cumulativeJobWallTimeSubmitSide),
    ),
    kv('Cumulative job badput wall time', formatDuration(s.badput)),
    kv('Cumulative job badput wall time as seen from submit side', formatDuration(s.badputSubmitSide)),
    '',
  ].join('\n');
}

const f2 = (n: number | null) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(2));
const f3 = (n: number | null) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(3));

function writeTable(path: string, title: string, header: string[], rows: (string | number)[][]): void {
  const sink = BufferedWriter.truncate(path);
  sink.write(`# ${title}\n${formatTable(header, rows)}\n`);
  sink.close();
}

/** breakdown.txt: per transformation, then per host. */
export function writeBreakdown(db: Db, path: string): void {
  const tr = db
    .prepare(
      `SELECT coalesce(i.transformation, t.transformation, j.transformation, '-') AS tr, count(*) AS n,
         sum(i.exitcode = 0) AS ok, sum(i.exitcode != 0) AS bad,
         min(i.remote_duration * ji.multiplier_factor) AS mn, max(i.remote_duration * ji.multiplier_factor) AS mx,
         avg(i.remote_duration * ji.multiplier_factor) AS mean, sum(i.remote_duration * ji.multiplier_factor) AS total,
         min(i.maxrss) / 1024.0 AS mem_min, max(i.maxrss) / 1024.0 AS mem_max, avg(i.maxrss) / 1024.0 AS mem_mean,
         avg(i.avg_cpu) * 100 AS cpu
       FROM invocation i LEFT JOIN task t ON t.task_id = i.task_id
       JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
       GROUP BY 1 ORDER BY 1`,
    )
    .all() as {
    tr: string;
    n: number;
    ok: number;
    bad: number;
    mn: number;
    mx: number;
    mean: number;
    total: number;
    mem_min: number | null;
    mem_max: number | null;
    mem_mean: number | null;
    cpu: number | null;
  }[];
  const hosts = db
    .prepare(
      `SELECT coalesce(h.hostname, '-') AS host, coalesce(h.site, '-') AS site, count(*) AS n,
         sum(i.exitcode = 0) AS ok, sum(i.exitcode != 0) AS bad, sum(i.remote_duration) AS total
       FROM invocation i LEFT JOIN host h ON h.host_id = i.host_id GROUP BY h.host_id ORDER BY 1`,
    )
    .all() as { host: string; site: string; n: number; ok: number; bad: number; total: number }[];
  const sink = BufferedWriter.truncate(path);
  sink.write(
    '# Invocations by transformation (runtime in seconds x pegasus cores; memory: maxrss in MB; cpu: (utime+stime)/runtime)\n',
  );
  sink.write(
    `${formatTable(
      [
        'Transformation',
        'Count',
        'Succeeded',
        'Failed',
        'Min',
        'Max',
        'Mean',
        'Total',
        'Min (mem)',
        'Max (mem)',
        'Mean (mem)',
        'Mean (cpu %)',
      ],
      tr.map((r) => [
        r.tr,
        r.n,
        r.ok,
        r.bad,
        f3(r.mn),
        f3(r.mx),
        f3(r.mean),
        f3(r.total),
        f2(r.mem_min),
        f2(r.mem_max),
        f2(r.mem_mean),
        f2(r.cpu),
      ]),
    )}\n\n`,
  );
  sink.write('# Invocations by host\n');
  sink.write(
    `${formatTable(
      ['Host', 'Site', 'Count', 'Succeeded', 'Failed', 'Runtime (sec)'],
      hosts.map((r) => [r.host, r.site, r.n, r.ok, r.bad, f3(r.total)]),
    )}\n`,
  );
  sink.close();
}

/** jobs.txt: one line per job attempt (streamed). */
export function writeJobs(db: Db, path: string): number {
  const it = db
    .prepare(
      `SELECT j.exec_job_id AS job, ji.job_submit_seq AS try, ji.site AS site, ks.k AS k, ji.multiplier_factor AS mult,
         ks.cpu AS cpu, ji.execute_time - ji.submit_time AS qtime, ji.local_duration AS runtime,
         ji.cluster_duration AS seqexec, ji.exitcode AS exitcode, h.hostname AS host
       FROM job_instance ji JOIN job j ON j.job_id = ji.job_id LEFT JOIN host h ON h.host_id = ji.host_id
       LEFT JOIN (SELECT job_instance_id, sum(remote_duration) AS k, sum(remote_cpu_time) AS cpu
                  FROM invocation WHERE task_submit_seq >= 1 GROUP BY job_instance_id) ks
         ON ks.job_instance_id = ji.job_instance_id
       ORDER BY ji.submit_time, j.exec_job_id, ji.job_submit_seq`,
    )
    .iterate() as IterableIterator<{
    job: string;
    try: number;
    site: string | null;
    k: number | null;
    mult: number;
    cpu: number | null;
    qtime: number | null;
    runtime: number | null;
    seqexec: number | null;
    exitcode: number | null;
    host: string | null;
  }>;
  const sink = BufferedWriter.truncate(path);
  const cols = [
    'Job',
    'Try',
    'Site',
    'Kickstart',
    'Mult',
    'Kickstart-Mult',
    'CPU-Time',
    'Post',
    'CondorQTime',
    'Resource',
    'Runtime',
    'Seqexec',
    'Seqexec-Delay',
    'Exitcode',
    'Hostname',
  ];
  sink.write(
    "# Job attempts (seconds; Kickstart: sum of the attempt's task records; Runtime: as the engine saw it;\n",
  );
  sink.write(
    "# CondorQTime: submit to execute; Seqexec: the cluster runner's own duration; Exitcode: raw wait status)\n",
  );
  sink.write(`${cols.join('\t')}\n`);
  let n = 0;
  for (const r of it) {
    const ks = r.k === null ? '-' : f3(r.k);
    const ksm = r.k === null ? '-' : f3(r.k * r.mult);
    const delay = r.seqexec !== null && r.k !== null ? f3(Math.max(0, r.seqexec - r.k)) : '-';
    sink.write(
      `${r.job}\t${r.try}\t${r.site ?? '-'}\t${ks}\t${r.mult}\t${ksm}\t${f3(r.cpu)}\t0.0\t${f3(r.qtime)}\t-\t${f3(r.runtime)}\t${f3(r.seqexec)}\t${delay}\t${r.exitcode ?? '-'}\t${r.host ?? '-'}\n`,
    );
    n++;
  }
  sink.close();
  return n;
}

/** Local date label of an epoch second: `YYYY-MM-DD HH:00` (hour) or `YYYY-MM-DD` (day). */
function dateLabel(t: number, unit: 'hour' | 'day'): string {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return unit === 'hour' ? `${day} ${p(d.getHours())}:00` : day;
}

/** Quarter-hour buckets (every time zone's offset is a multiple of 15 minutes) -> local labels. */
const QUARTER = 900;

/**
 * time.txt and time-per-host.txt: job attempts and invocations per hour or day (local time).
 * SQL groups by quarter hour (integer arithmetic, no date function per row); the few groups are
 * merged into local hours or days here.
 */
export function writeTime(db: Db, dir: string, unit: 'hour' | 'day'): void {
  const labels = new Map<number, string>();
  const label = (q: number): string => {
    let l = labels.get(q);
    if (l === undefined) {
      l = dateLabel(q * QUARTER, unit);
      labels.set(q, l);
    }
    return l;
  };
  const add = (m: Map<string, { n: number; rt: number }>, key: string, n: number, rt: number) => {
    const x = m.get(key);
    if (x) {
      x.n += n;
      x.rt += rt;
    } else m.set(key, { n, rt });
  };
  const jobs = new Map<string, { n: number; rt: number }>();
  for (const r of db
    .prepare(
      `SELECT CAST(submit_time / ${QUARTER} AS INTEGER) AS q, count(*) AS n, coalesce(sum(local_duration), 0) AS rt
       FROM job_instance WHERE submit_time IS NOT NULL GROUP BY 1`,
    )
    .iterate() as IterableIterator<{ q: number; n: number; rt: number }>)
    add(jobs, label(r.q), r.n, r.rt);
  const invs = new Map<string, { n: number; rt: number }>();
  const perHost = new Map<string, { n: number; rt: number }>();
  const hostName = new Map<number | null, string>([[null, '-']]);
  for (const h of db.prepare('SELECT host_id, hostname FROM host').iterate() as IterableIterator<{
    host_id: number;
    hostname: string | null;
  }>)
    hostName.set(h.host_id, h.hostname ?? '-');
  for (const r of db
    .prepare(
      `SELECT CAST(start_time / ${QUARTER} AS INTEGER) AS q, host_id AS h, count(*) AS n, coalesce(sum(remote_duration), 0) AS rt
       FROM invocation WHERE task_submit_seq >= 1 AND start_time IS NOT NULL GROUP BY 1, 2`,
    )
    .iterate() as IterableIterator<{ q: number; h: number | null; n: number; rt: number }>) {
    const d = label(r.q);
    add(invs, d, r.n, r.rt);
    add(perHost, `${d}\0${hostName.get(r.h) ?? '-'}`, r.n, r.rt);
  }
  const sorted = (m: Map<string, { n: number; rt: number }>) => [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const sink = BufferedWriter.truncate(join(dir, 'time.txt'));
  sink.write(
    `# Job attempts per ${unit}\n${formatTable(
      ['Date', 'Count', 'Runtime (sec)'],
      sorted(jobs).map(([d, v]) => [d, v.n, f3(v.rt)]),
    )}\n\n`,
  );
  sink.write(
    `# Invocations per ${unit}\n${formatTable(
      ['Date', 'Count', 'Runtime (sec)'],
      sorted(invs).map(([d, v]) => [d, v.n, f3(v.rt)]),
    )}\n`,
  );
  sink.close();
  writeTable(
    join(dir, 'time-per-host.txt'),
    `Invocations per ${unit} and host`,
    ['Date', 'Host', 'Count', 'Runtime (sec)'],
    sorted(perHost).map(([k, v]) => {
      const [d, h] = k.split('\0');
      return [d, h, v.n, f3(v.rt)];
    }),
  );
}

export interface StatisticsOptions {
  /** summary (default) or all (every file) */
  level?: 'summary' | 'all';
  /** output dir (default SUBMIT_DIR/statistics) */
  outputDir?: string;
  /** time.txt granularity (default hour) */
  timeUnit?: 'hour' | 'day';
}

export interface StatisticsResult {
  summary: Summary;
  text: string;
  outputDir: string;
  files: string[];
}

/** Computes the summary and writes the statistics files (summary.txt always). */
export async function writeStatistics(
  db: Db,
  submitDir: string,
  options: StatisticsOptions = {},
): Promise<StatisticsResult> {
  const outputDir = options.outputDir ?? join(submitDir, 'statistics');
  mkdirSync(outputDir, { recursive: true });
  const summary = await querySummaryTree(db, submitDir);
  const text = formatSummary(summary);
  const files: string[] = [];
  const out = (name: string) => {
    const p = join(outputDir, name);
    files.push(p);
    return p;
  };
  const s = BufferedWriter.truncate(out('summary.txt'));
  s.write(text);
  s.close();
  if (options.level === 'all') {
    writeWorkflows(summary, out('workflow.txt'));
    writeBreakdown(db, out('breakdown.txt'));
    writeJobs(db, out('jobs.txt'));
    writeTime(db, outputDir, options.timeUnit ?? 'hour');
    files.push(join(outputDir, 'time.txt'), join(outputDir, 'time-per-host.txt'));
    const g = BufferedWriter.truncate(out('gantt.svg'));
    renderGantt(db, workflowInfo(db).label, (chunk) => g.write(chunk));
    g.close();
  }
  return { summary, text, outputDir, files };
}

/** workflow.txt: each workflow's tasks, jobs and sub-workflows (`root`, then job paths), then `All`. */
export function writeWorkflows(s: Summary, path: string): void {
  const rows: (string | number)[][] = [];
  const add = (wf: string, label: string, c: Pick<Summary, 'tasks' | 'jobs' | 'subWorkflows'>) => {
    for (const [type, r] of [
      ['Tasks', c.tasks],
      ['Jobs', c.jobs],
      ['Sub-Workflows', c.subWorkflows],
    ] as const) {
      rows.push([wf, label, type, r.succeeded, r.failed, r.incomplete, r.total, r.retries, r.totalRetries]);
    }
  };
  for (const w of s.workflows ?? []) add(w.path === '' ? 'root' : w.path.slice(0, -1), w.label, w);
  add('All', 'All', s);
  writeTable(
    path,
    'Workflow statistics (every level of a hierarchical workflow, then all of them summed)',
    ['Workflow', 'Label', 'Type', 'Succeeded', 'Failed', 'Incomplete', 'Total', 'Retries', 'Total+Retries'],
    rows,
  );
}
