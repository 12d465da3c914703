import { progressBar } from '@pegasus-ts/io';
import type { Db } from './database.js';
import { daysHoursMinutesSeconds, formatTable, formatTime } from './format.js';
import { type JobCategory, jobCategory } from './job-category.js';
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
  const state = runStateText(r.run);
  const lines: string[] = [];
  if (r.jobs) {
    if (r.jobs.length === 0) lines.push('(no job submitted and not done)');
    else {
      lines.push(
        formatTable(
          ['STAT', 'IN_STATE', 'TRY', 'SITE', 'JOB', 'LAST EVENT'],
          r.jobs.map((j) => [j.category, inState(j.since, now), j.try, j.site ?? '-', j.name, j.state]),
        ),
      );
      if (r.moreJobs) lines.push(`... and ${r.moreJobs} more`);
    }
    lines.push('');
  }
  lines.push(
    formatTable(
      ['UNREADY', 'READY', 'PRE', 'IN_Q', 'POST', 'DONE', 'FAIL', '%DONE', 'STATE', 'DAGNAME'],
      [
        [
          t.unready,
          t.ready,
          t.pre,
          t.queued,
          t.post,
          t.succeeded,
          t.failed,
          t.percent_done.toFixed(1),
          state,
          r.dagname,
        ],
      ],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
    ),
  );
  lines.push(
    `${progressBar(t.total ? t.succeeded / t.total : 0)} ${t.percent_done.toFixed(1)}% (${t.succeeded}/${t.total} jobs done, ${t.failed} failed)`,
  );
  lines.push(`Summary: 1 DAG total (${r.run.state === 'Planned' ? 'Running' : r.run.state}:1)`);
  if (r.run.firstStart !== null)
    lines.push(
      `Started ${formatTime(r.run.firstStart)}${r.run.starts > 1 ? `, ${r.run.starts} engine starts` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The JSON of `status -j` (pegasus-status's layout; condor_jobs is always empty here). */
export function statusJson(r: StatusReport): unknown {
  const root = { ...r.totals, dagname: r.dagname, state: r.run.state };
  const out: Record<string, unknown> = { totals: r.totals, dags: { root }, condor_jobs: {} };
  if (r.jobs) out.jobs = r.jobs;
  return out;
}
