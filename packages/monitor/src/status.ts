import { progressBar } from '@pegasus-ts/io';
import type { Db } from './database.js';
import { daysHoursMinutesSeconds, formatTable, formatTime } from './format.js';
import { type JobCategory, jobCategory } from './job-category.js';
import { mapSubWorkflows } from './sub-workflows.js';
import { runStateText, type WorkflowRun, workflowInfo, workflowRun } from './workflow-state.js';

export interface StatusCounts {
  unready: number;
  ready: number;
  pre: number;
  queued: number;
  post: number;
  succeeded: number;
  failed: number;
  percent_done: number;
  total: number;
}

export interface StatusJob {
  name: string;
  category: JobCategory;
  state: string;
  site: string | null;
  try: number;
  since: number | null;
}

export interface StatusReport {
  dagname: string;
  wfUuid: string;
  run: WorkflowRun;
  totals: StatusCounts;
  /** with `long`: the jobs submitted and not done (at most `limit`) */
  jobs?: StatusJob[];
  /** how many more such jobs there were beyond `limit` */
  moreJobs?: number;
  /** with queryStatusTree: the planned sub-workflows, each with its own report */
  subWorkflows?: SubWorkflowStatus[];
}

/** The status of one sub-workflow: its job in the parent, its submit dir, its report. */
export interface SubWorkflowStatus {
  job: string;
  dir: string;
  report: StatusReport;
}

/**
 * queryStatus of the workflow and, nested, of every planned sub-workflow (each one's database
 * brought up to date first): what `status -l` shows.
 */
export async function queryStatusTree(
  db: Db,
  submitDir: string,
  options: { long?: boolean; limit?: number } = {},
  seen?: ReadonlySet<string>,
): Promise<StatusReport> {
  const report = queryStatus(db, submitDir, options);
  report.subWorkflows = await mapSubWorkflows(
    db,
    submitDir,
    async (sub, subDb, above) => ({
      job: sub.job,
      dir: sub.dir,
      report: await queryStatusTree(subDb, sub.dir, options, above),
    }),
    seen,
  );
  return report;
}

/** The report and its sub-workflows' reports, depth first, with their depth and job path (`a/b`). */
function* flatten(r: StatusReport, depth = 0, path = ''): Generator<[StatusReport, number, string]> {
  yield [r, depth, path];
  for (const s of r.subWorkflows ?? []) yield* flatten(s.report, depth + 1, `${path}${s.job}/`);
}

/**
 * Counts jobs per status column with two GROUP BYs (jobs by last state; unsubmitted jobs whose
 * parents are all done): no row is loaded, so it answers in about a second at a million jobs.
 */
export function queryStatus(
  db: Db,
  submitDir: string,
  options: { long?: boolean; limit?: number } = {},
): StatusReport {
  const info = workflowInfo(db);
  const run = workflowRun(db, submitDir);
  const running = run.state === 'Running';
  const t: StatusCounts = {
    unready: 0,
    ready: 0,
    pre: 0,
    queued: 0,
    post: 0,
    succeeded: 0,
    failed: 0,
    percent_done: 0,
    total: 0,
  };
  const groups = db
    .prepare('SELECT state, failures <= max_retries AS can_retry, count(*) AS n FROM job GROUP BY 1, 2')
    .all() as { state: string | null; can_retry: number; n: number }[];
  let unsubmitted = 0;
  for (const g of groups) {
    t.total += g.n;
    const c = jobCategory(g.state, g.can_retry === 1, running);
    if (c === null) unsubmitted += g.n;
    else add(t, c, g.n);
  }
  if (unsubmitted > 0) {
    const ready = (
      db
        .prepare(
          `SELECT count(*) AS n FROM job j WHERE j.state IS NULL AND NOT EXISTS (
             SELECT 1 FROM job_edge e JOIN job p ON p.exec_job_id = e.parent_exec_job_id
             WHERE e.child_exec_job_id = j.exec_job_id AND (p.state IS NULL OR p.state != 'POST_SCRIPT_SUCCESS'))`,
        )
        .get() as { n: number }
    ).n;
    t.ready += ready;
    t.unready += unsubmitted - ready;
  }
  t.percent_done = t.total === 0 ? 0 : Math.round((t.succeeded / t.total) * 10000) / 100;
  const report: StatusReport = { dagname: info.label, wfUuid: info.wfUuid, run, totals: t };
  if (options.long) {
    const limit = options.limit ?? 1000;
    const jobs: StatusJob[] = [];
    let more = 0;
    const it = db
      .prepare(
        `SELECT j.exec_job_id AS name, j.state AS state, j.last_seq AS seq, j.failures <= j.max_retries AS can_retry,
           j.state_time AS since, ji.site AS site
         FROM job j LEFT JOIN job_instance ji ON ji.job_id = j.job_id AND ji.job_submit_seq = j.last_seq
         WHERE j.state IS NOT NULL AND j.state != 'POST_SCRIPT_SUCCESS' ORDER BY j.state_time, j.exec_job_id`,
      )
      .iterate() as IterableIterator<{
      name: string;
      state: string;
      seq: number;
      can_retry: number;
      since: number | null;
      site: string | null;
    }>;
    for (const r of it) {
      if (jobs.length >= limit) {
        more++;
        continue;
      }
      jobs.push({
        name: r.name,
        category: jobCategory(r.state, r.can_retry === 1, running) ?? 'UNREADY',
        state: r.state,
        site: r.site,
        try: r.seq,
        since: r.since,
      });
    }
    report.jobs = jobs;
    report.moreJobs = more;
  }
  return report;
}

function add(t: StatusCounts, c: JobCategory, n: number): void {
  switch (c) {
    case 'UNREADY':
      t.unready += n;
      break;
    case 'READY':
      t.ready += n;
      break;
    case 'PRE':
      t.pre += n;
      break;
    case 'IN_Q':
      t.queued += n;
      break;
    case 'POST':
      t.post += n;
      break;
    case 'DONE':
      t.succeeded += n;
      break;
    case 'FAIL':
      t.failed += n;
      break;
  }
}

function inState(since: number | null, now: number): string {
  if (since === null) return '-';
  const [d, h, m, s] = daysHoursMinutesSeconds(now - since);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d > 0 ? `${d}:` : ''}${d > 0 || h > 0 ? `${p(h)}:` : ''}${p(m)}:${p(s)}`;
}

/** The text pegasus-status users know: the totals table, a progress bar, and with -l the jobs. */
export function formatStatus(r: StatusReport, now = Date.now() / 1000): string {
  const t = r.totals;
  const lines: string[] = [];
  const all = [...flatten(r)];
  if (r.jobs) {
    // sub-workflows' jobs as JOB/SUBJOB (the sub-workflow job's name first)
    const jobs = all.flatMap(([w, , path]) => (w.jobs ?? []).map((j) => ({ ...j, name: path + j.name })));
    const more = all.reduce((n, [w]) => n + (w.moreJobs ?? 0), 0);
    if (jobs.length === 0) lines.push('(no job submitted and not done)');
    else {
      lines.push(
        formatTable(
          ['STAT', 'IN_STATE', 'TRY', 'SITE', 'JOB', 'LAST EVENT'],
          jobs.map((j) => [j.category, inState(j.since, now), j.try, j.site ?? '-', j.name, j.state]),
        ),
      );
      if (more) lines.push(`... and ${more} more`);
    }
    lines.push('');
  }
  // a row per workflow: the top one, then each sub-workflow indented under its parent
  lines.push(
    formatTable(
      ['UNREADY', 'READY', 'PRE', 'IN_Q', 'POST', 'DONE', 'FAIL', '%DONE', 'STATE', 'DAGNAME'],
      all.map(([w, depth, path]) => {
        const c = w.totals;
        const name = depth === 0 ? w.dagname : `${'  '.repeat(depth)}${path.slice(0, -1)} (${w.dagname})`;
        return [
          c.unready,
          c.ready,
          c.pre,
          c.queued,
          c.post,
          c.succeeded,
          c.failed,
          c.percent_done.toFixed(1),
          runStateText(w.run),
          name,
        ];
      }),
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
  );
  lines.push(
    `${progressBar(t.total ? t.succeeded / t.total : 0)} ${t.percent_done.toFixed(1)}% (${t.succeeded}/${t.total} jobs done, ${t.failed} failed)`,
  );
  const states = new Map<string, number>();
  for (const [w] of all) {
    const st = w.run.state === 'Planned' ? 'Running' : w.run.state;
    states.set(st, (states.get(st) ?? 0) + 1);
  }
  const byState = [...states].map(([k, n]) => `${k}:${n}`).join(', ');
  lines.push(`Summary: ${all.length} DAG${all.length === 1 ? '' : 's'} total (${byState})`);
  if (r.run.firstStart !== null)
    lines.push(
      `Started ${formatTime(r.run.firstStart)}${r.run.starts > 1 ? `, ${r.run.starts} engine starts` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

/**
 * The JSON of `status -j` (pegasus-status's layout; condor_jobs is always empty here): `dags` has
 * `root` and, from queryStatusTree, one entry per sub-workflow keyed by its job path (`a`, `a/b`).
 */
export function statusJson(r: StatusReport): unknown {
  const dags: Record<string, unknown> = {};
  for (const [w, depth, path] of flatten(r))
    dags[depth === 0 ? 'root' : path.slice(0, -1)] = { ...w.totals, dagname: w.dagname, state: w.run.state };
  const out: Record<string, unknown> = { totals: r.totals, dags, condor_jobs: {} };
  if (r.jobs) out.jobs = r.jobs;
  return out;
}
