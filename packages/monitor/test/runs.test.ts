import { appendFileSync, cpSync, existsSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, formatAnalyzer } from '../src/analyzer.js';
import { Ingester, ingest } from '../src/ingester.js';
import { openMonitor } from '../src/open-monitor.js';
import { writeStatistics } from '../src/statistics.js';
import { formatStatus, queryStatus, statusJson } from '../src/status.js';
import { buildRun, FAILING_CLUSTER, type Run } from './fixture.js';

let success: Run;
let failure: Run;
let retry: Run;

beforeAll(async () => {
  [success, failure, retry] = await Promise.all([
    buildRun('success'),
    buildRun('failure'),
    buildRun('retry'),
  ]);
}, 120_000);

afterAll(() => {
  success?.cleanup();
  failure?.cleanup();
  retry?.cleanup();
});

const counts = (db: Database.Database) =>
  db
    .prepare(
      `SELECT (SELECT count(*) FROM job) AS jobs, (SELECT count(*) FROM task) AS tasks,
         (SELECT count(*) FROM job_instance) AS instances, (SELECT count(*) FROM jobstate) AS states,
         (SELECT count(*) FROM invocation) AS invocations, (SELECT count(*) FROM workflowstate) AS wfstates,
         (SELECT count(*) FROM host) AS hosts, (SELECT count(*) FROM job_edge) AS edges`,
    )
    .get() as Record<string, number>;

/** A copy of a run's submit dir without its database. */
function copyOf(run: Run, name: string): string {
  const dest = join(run.dir, name);
  cpSync(run.submitDir, dest, { recursive: true, filter: (src) => !src.includes('workflow.db') });
  return dest;
}

describe('a successful run', () => {
  it('status: every job done, Success, 100%', async () => {
    const { db } = await openMonitor(success.submitDir);
    const r = queryStatus(db, success.submitDir, { long: true });
    expect(r.totals).toMatchObject({
      unready: 0,
      ready: 0,
      queued: 0,
      post: 0,
      succeeded: 7,
      failed: 0,
      total: 7,
      percent_done: 100,
    });
    expect(r.run.state).toBe('Success');
    expect(r.jobs).toEqual([]);
    const text = formatStatus(r);
    expect(text).toMatch(/UNREADY\s+READY\s+PRE\s+IN_Q\s+POST\s+DONE\s+FAIL\s+%DONE\s+STATE\s+DAGNAME/);
    expect(text).toMatch(/\n\s+0\s+0\s+0\s+0\s+0\s+7\s+0\s+100.0\s+Success\s+koto-mc\n/);
    expect(text).toContain('[########################################] 100.0%');
    expect(statusJson(r)).toMatchObject({
      totals: { succeeded: 7, total: 7 },
      dags: { root: { state: 'Success', dagname: 'koto-mc' } },
    });
    const a = analyze(db, success.submitDir);
    expect(a).toMatchObject({ total: 7, succeeded: 7, failed: 0, failedJobs: [] });
    db.close();
  });

  it('statistics: the summary table, and every file of -s all', async () => {
    const { db } = await openMonitor(success.submitDir);
    const r = writeStatistics(db, success.submitDir, { level: 'all' });
    db.close();
    expect(r.summary.tasks).toMatchObject({
      succeeded: 13,
      failed: 0,
      incomplete: 0,
      total: 13,
      retries: 0,
      totalRetries: 13,
    });
    expect(r.summary.jobs).toMatchObject({ succeeded: 7, failed: 0, total: 7, retries: 0 });
    expect(r.summary.workflowWallTime).toBeGreaterThanOrEqual(0);
    expect(r.summary.cumulativeJobWallTime).toBeGreaterThan(0);
    expect(r.summary.badput).toBe(0);
    expect(r.text).toMatch(/Tasks\s+13\s+0\s+0\s+13\s+0\s+13/);
    expect(r.text).toMatch(/Jobs\s+7\s+0\s+0\s+7\s+0\s+7/);
    expect(r.text).toContain('Cumulative job badput wall time                          : 0.0 sec');
    const dir = join(success.submitDir, 'statistics');
    for (const f of [
      'summary.txt',
      'breakdown.txt',
      'jobs.txt',
      'time.txt',
      'time-per-host.txt',
      'gantt.svg',
    ]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const breakdown = readFileSync(join(dir, 'breakdown.txt'), 'utf8');
    expect(breakdown).toMatch(/koto::koto-sim:1.0\s+12\s+12\s+0\s/);
    const jobs = readFileSync(join(dir, 'jobs.txt'), 'utf8').trim().split('\n');
    expect(jobs.filter((l) => !l.startsWith('#'))).toHaveLength(1 + 7);
    const svg = readFileSync(join(dir, 'gantt.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/fill="#2ca02c"/g)?.length).toBeGreaterThanOrEqual(7);
    expect(svg).not.toContain('fill="#d62728" stroke');
  });
});

describe('a failed run', () => {
  it('analyzer: the failed clustered job, its failed task, exit code, output and records', async () => {
    const { db } = await openMonitor(failure.submitDir);
    const status = queryStatus(db, failure.submitDir);
    expect(status.totals).toMatchObject({ succeeded: 3, failed: 1, unready: 3, total: 7 });
    expect(status.run.state).toBe('Failure');
    const a = analyze(db, failure.submitDir);
    db.close();
    expect(a).toMatchObject({ total: 7, succeeded: 3, failed: 1, unsubmitted: 3 });
    expect(a.failedJobs).toHaveLength(1);
    const j = a.failedJobs[0];
    expect(j).toMatchObject({
      name: FAILING_CLUSTER,
      lastState: 'POST_SCRIPT_FAILURE',
      try: 3,
      site: 'slurm',
      exitCode: 1,
      signal: null,
      record: `invocations/${FAILING_CLUSTER}.002.yml`,
      stderrFile: `jobs/${FAILING_CLUSTER}.err.002`,
      failedTaskCount: 1,
    });
    expect(j.hostname).toBeTruthy();
    expect(j.command).toContain(`mpi-cluster --workers 2 clusters/${FAILING_CLUSTER}.dag`);
    expect(j.stderrTail).toContain('Task sim_00003 failed');
    expect(j.failedTasks![0]).toMatchObject({
      index: 4,
      abstractId: 'sim_00003',
      transformation: 'koto::koto-sim:1.0',
      tries: 2,
      exitCode: 3,
      stderr: 'koto-sim: cannot open koto-geometry.gdml',
      stdout: 'simulating sim_00003',
    });
    expect(j.failedTasks![0].record).toMatch(
      new RegExp(`^clusters/${FAILING_CLUSTER}.dag.invocations.yml \\(byte \\d+\\)$`),
    );
    // the byte offset points at the record
    const off = Number(/byte (\d+)/.exec(j.failedTasks![0].record)![1]);
    const file = readFileSync(join(failure.submitDir, `clusters/${FAILING_CLUSTER}.dag.invocations.yml`));
    expect(file.subarray(off, off + 18).toString()).toBe('- invocation: true');
    const text = formatAnalyzer(a);
    expect(text).toContain(' # jobs failed      :      1 (14.29%)');
    expect(text).toContain('Task #4 - koto::koto-sim:1.0 - sim_00003');
  });

  it('statistics: failed jobs, badput, failed tries', async () => {
    const { db } = await openMonitor(failure.submitDir);
    const r = writeStatistics(db, failure.submitDir, { level: 'all', outputDir: join(failure.dir, 'stats') });
    db.close();
    expect(r.summary.jobs).toMatchObject({
      succeeded: 3,
      failed: 1,
      incomplete: 3,
      total: 7,
      retries: 2,
      totalRetries: 6,
    });
    // 12 tasks ran, 1 failed every try (2 tries in each of 3 attempts), the merge task never ran
    expect(r.summary.tasks).toMatchObject({ succeeded: 11, failed: 1, incomplete: 1, total: 13, retries: 5 });
    expect(r.summary.badput).toBeGreaterThan(0);
    expect(r.summary.badputSubmitSide).toBeGreaterThan(0);
    expect(readFileSync(join(failure.dir, 'stats/gantt.svg'), 'utf8')).toContain('fill="#d62728"');
  });
});

describe('a run with a retry', () => {
  it('each task record goes to the attempt that ran it', async () => {
    const { db } = await openMonitor(retry.submitDir);
    const rows = db
      .prepare(
        `SELECT ji.job_submit_seq AS seq, count(*) AS n, sum(i.exitcode != 0) AS bad FROM invocation i
         JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
         WHERE j.exec_job_id = ? AND i.task_submit_seq >= 1 GROUP BY 1 ORDER BY 1`,
      )
      .all(FAILING_CLUSTER);
    // attempt 1: 10 tasks, sim_00003 failed; attempt 2 resumed from the rescue log: only sim_00003
    expect(rows).toEqual([
      { seq: 1, n: 10, bad: 1 },
      { seq: 2, n: 1, bad: 0 },
    ]);
    const a = analyze(db, retry.submitDir);
    expect(a).toMatchObject({ succeeded: 7, failed: 0 });
    const r = writeStatistics(db, retry.submitDir, { outputDir: join(retry.dir, 'stats') });
    db.close();
    expect(r.summary.jobs).toMatchObject({ succeeded: 7, failed: 0, total: 7, retries: 1, totalRetries: 8 });
    expect(r.summary.tasks).toMatchObject({ succeeded: 13, failed: 0, retries: 1 });
  });
});

describe('incremental ingest', () => {
  it('a second pass adds nothing; a new database from the same files is the same', async () => {
    const dir = copyOf(failure, 'again');
    const first = await ingest(dir);
    expect(first.planJobs).toBe(7);
    const db = new Database(join(dir, 'workflow.db'), { readonly: true });
    const before = counts(db);
    const second = await ingest(dir);
    expect(second).toMatchObject({ planJobs: 0, jobstateLines: 0, records: 0 });
    expect(counts(db)).toEqual(before);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('files read while they are written (cut mid-line, mid-record) give the same rows as read at once', async () => {
    const whole = copyOf(failure, 'whole');
    await ingest(whole);
    const a = new Database(join(whole, 'workflow.db'), { readonly: true });
    // where each attempt's task records start in the cluster's record file
    const starts = (
      a
        .prepare(
          `SELECT ji.job_submit_seq AS seq, min(i.record_offset) AS off FROM invocation i
           JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
           WHERE j.exec_job_id = ? AND i.task_submit_seq >= 1 GROUP BY 1 ORDER BY 1`,
        )
        .all(FAILING_CLUSTER) as { seq: number; off: number }[]
    ).map((r) => r.off);
    const dir = copyOf(failure, 'growing');
    const logPath = join(dir, 'jobstate.log');
    const recPath = join(dir, `clusters/${FAILING_CLUSTER}.dag.invocations.yml`);
    const log = readFileSync(logPath, 'utf8');
    const rec = readFileSync(recPath);
    truncateSync(logPath, 0);
    truncateSync(recPath, 0);
    // Replay the run as the engine and the runner wrote it: jobstate.log line by line, each line
    // in two pieces; an attempt's task records (in three pieces, cut mid-record) before its
    // JOB_TERMINATED line; an ingest pass after every piece.
    const ing = new Ingester(dir, { chunkBytes: 4096, quietSeconds: 3600 });
    let passes = 0;
    const pass = async () => {
      await ing.ingest();
      passes++;
    };
    for (const line of log.split(/(?<=\n)/)) {
      const m = new RegExp(`^\\d+ ${FAILING_CLUSTER} JOB_TERMINATED \\S+ \\S+ - (\\d+)`).exec(line);
      if (m) {
        const seq = Number(m[1]);
        const from = starts[seq - 1];
        const to = seq < starts.length ? starts[seq] : rec.length;
        const cuts = [from, from + Math.floor((to - from) * 0.37), from + Math.floor((to - from) * 0.71), to];
        for (let k = 0; k < 3; k++) {
          appendFileSync(recPath, rec.subarray(cuts[k], cuts[k + 1]));
          await pass();
        }
      }
      const half = Math.floor(line.length / 2);
      appendFileSync(logPath, line.slice(0, half));
      await pass();
      appendFileSync(logPath, line.slice(half));
      await pass();
    }
    ing.close();
    expect(passes).toBeGreaterThan(80);
    const b = new Database(join(dir, 'workflow.db'), { readonly: true });
    expect(counts(b)).toEqual(counts(a));
    const inv = (db: Database.Database) =>
      db
        .prepare(
          'SELECT job_instance_id, task_submit_seq, task_id, exitcode, host_id, stderr_text, record_file, record_offset FROM invocation ORDER BY record_file, record_offset',
        )
        .all();
    expect(inv(b)).toEqual(inv(a));
    const states = (db: Database.Database) => db.prepare('SELECT * FROM jobstate ORDER BY rowid').all();
    expect(states(b)).toEqual(states(a));
    a.close();
    b.close();
  });

  it('two ingesters at once (engine and a tool) take turns without duplicating rows', async () => {
    const whole = copyOf(retry, 'one');
    await ingest(whole);
    const dir = copyOf(retry, 'two');
    const x = new Ingester(dir, { chunkBytes: 4096 });
    const y = new Ingester(dir, { chunkBytes: 4096 });
    await Promise.all([x.ingest(), y.ingest(), x.ingest(), y.ingest()]);
    x.close();
    y.close();
    const a = new Database(join(whole, 'workflow.db'), { readonly: true });
    const b = new Database(join(dir, 'workflow.db'), { readonly: true });
    expect(counts(b)).toEqual(counts(a));
    a.close();
    b.close();
  });

  it('the database answers queries while a writer holds a transaction open', async () => {
    const dir = copyOf(success, 'busy');
    const ing = new Ingester(dir);
    await ing.ingest();
    ing.db.exec('BEGIN IMMEDIATE');
    ing.db.exec("INSERT INTO meta (key, value) VALUES ('x', 'y')");
    const reader = new Database(join(dir, 'workflow.db'), { readonly: true });
    expect((reader.prepare('SELECT count(*) AS n FROM job').get() as { n: number }).n).toBe(7);
    expect(reader.prepare("SELECT value FROM meta WHERE key = 'x'").get()).toBeUndefined();
    ing.db.exec('COMMIT');
    expect(reader.prepare("SELECT value FROM meta WHERE key = 'x'").get()).toEqual({ value: 'y' });
    reader.close();
    ing.close();
  });

  it('watch mode follows a growing jobstate.log and the last pass on stop catches up', async () => {
    const dir = copyOf(retry, 'watched');
    const log = join(dir, 'jobstate.log');
    const lines = readFileSync(log, 'utf8').split(/(?<=\n)/);
    truncateSync(log, 0);
    const ing = new Ingester(dir);
    const w = ing.watch({ intervalMs: 20 });
    const seen = () => (ing.db.prepare('SELECT count(*) AS n FROM jobstate').get() as { n: number }).n;
    const jobLines = lines.filter((l) => !l.includes('INTERNAL')).length;
    for (let k = 0; k < lines.length; k += 5) {
      appendFileSync(log, lines.slice(k, k + 5).join(''));
      const want = lines.slice(0, k + 5).filter((l) => !l.includes('INTERNAL')).length;
      // wait for the watcher to catch up
      for (let i = 0; i < 500 && seen() < want; i++) await new Promise((r) => setTimeout(r, 10));
      expect(seen()).toBe(want);
    }
    const total = await w.stop();
    expect(total.jobstateLines).toBe(lines.length);
    expect(seen()).toBe(jobLines);
    ing.close();
  });

  it('a submit dir without plan.yml, and a missing dir, are one-line errors', async () => {
    await expect(ingest(join(success.dir, 'nope'))).rejects.toThrow(/nope: no such submit directory$/);
    await expect(ingest(success.dir)).rejects.toThrow(/not a submit directory \(no plan.yml\)$/);
    rmSync(join(success.dir, 'workflow.db'), { force: true });
  });
});
