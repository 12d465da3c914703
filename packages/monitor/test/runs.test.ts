import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, analyzerExitCode, formatAnalyzer } from '../src/analyzer.js';
import { SCHEMA_VERSION } from '../src/database.js';
import { Ingester, ingest } from '../src/ingester.js';
import { openMonitor } from '../src/open-monitor.js';
import { querySummary, writeStatistics } from '../src/statistics.js';
import { formatStatus, queryStatus, statusJson } from '../src/status.js';
import {
  buildRun,
  FAILING_CLUSTER,
  FAILING_SEED,
  FAILING_TASK,
  pegasusTs,
  planExample,
  type Run,
  runEngine,
} from './fixture.js';
import { type FromFiles, fromFiles } from './from-files.js';

let success: Run;
let retry: Run;
/** the retry run's first (failed) engine run, copied before the second one */
let failure: { dir: string; submitDir: string };

beforeAll(async () => {
  [success, retry] = await Promise.all([buildRun('success'), buildRun('retry')]);
  failure = { dir: retry.dir, submitDir: retry.failedCopy as string };
}, 180_000);

afterAll(() => {
  success?.cleanup();
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

/** Kills (by pid) the processes this test started that still mention `dir` (after a failure). */
function killProcessesUnder(dir: string): void {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) process.kill(Number(e), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** A copy of a run's submit dir without its database. */
function copyOf(run: { dir: string; submitDir: string }, name: string): string {
  const dest = join(run.dir, name);
  cpSync(run.submitDir, dest, { recursive: true, filter: (src) => !src.includes('workflow.db') });
  return dest;
}

/** status, analyzer and statistics against the independent count of the run's files. */
async function checkAgainstFiles(submitDir: string, f: FromFiles, state: 'Success' | 'Failure') {
  const { db } = await openMonitor(submitDir);
  try {
    const r = queryStatus(db, submitDir, { long: true });
    expect(r.run.state).toBe(state);
    expect(r.run.starts).toBe(f.engineStarts);
    expect(r.totals).toEqual({
      unready: f.unready,
      ready: f.ready,
      pre: 0,
      queued: 0,
      post: 0,
      succeeded: f.done,
      failed: f.failed,
      percent_done: Math.round((f.done / f.jobs.length) * 10000) / 100,
      total: f.jobs.length,
    });
    // -l: the jobs submitted and not done, with their try
    expect(r.jobs?.map((j) => [j.name, j.category, j.try])).toEqual(
      f.jobs
        .filter((j) => f.lastEvent.has(j) && f.lastEvent.get(j) !== 'POST_SCRIPT_SUCCESS')
        .map((j) => [j, 'FAIL', f.lastSeq.get(j)]),
    );
    const a = analyze(db, submitDir);
    expect(a).toMatchObject({
      total: f.jobs.length,
      succeeded: f.done,
      failed: f.failed,
      unsubmitted: f.unsubmitted,
      failing: 0,
      running: 0,
    });
    const s = querySummary(db, submitDir);
    expect(s.jobs).toEqual({
      succeeded: f.done,
      failed: f.failed,
      incomplete: f.jobs.length - f.done - f.failed,
      total: f.jobs.length,
      retries: f.jobRetries,
      totalRetries: f.done + f.failed + f.jobRetries,
    });
    const tasksRun = f.tasks.succeeded + f.tasks.failed;
    expect(s.tasks).toEqual({
      succeeded: f.tasks.succeeded,
      failed: f.tasks.failed,
      incomplete: f.tasks.total - tasksRun,
      total: f.tasks.total,
      retries: f.tasks.tries - tasksRun,
      totalRetries: f.tasks.tries,
    });
    expect(s.workflowWallTime).toBe(f.wallTime);
    expect(s.cumulativeJobWallTime).toBeCloseTo(f.cumulative, 6);
    expect(s.cumulativeJobWallTimeSubmitSide).toBeCloseTo(f.submitSide, 6);
    expect(s.badputSubmitSide).toBeCloseTo(f.badputSubmitSide, 6);
    expect(s.badput).toBeCloseTo(f.badput, 2); // the runner prints its task runtime with 3 decimals
    // every attempt has its kickstart record (registration too), read into the database
    const inst = db
      .prepare('SELECT count(*) AS n, sum(record_state = 1) AS withRecord FROM job_instance')
      .get() as { n: number; withRecord: number };
    expect(inst).toEqual({ n: f.attempts, withRecord: f.attempts });
    // each cluster task record went to the attempt that ran it
    const perSeq = db.prepare(
      `SELECT ji.job_submit_seq AS seq, count(i.invocation_id) AS n FROM job_instance ji JOIN job j ON j.job_id = ji.job_id
       LEFT JOIN invocation i ON i.job_instance_id = ji.job_instance_id AND i.task_submit_seq >= 1
       WHERE j.exec_job_id = ? GROUP BY 1 ORDER BY 1`,
    );
    for (const [job, tries] of f.clusterTries) {
      expect(
        (perSeq.all(job) as { n: number }[]).map((x) => x.n),
        job,
      ).toEqual(tries);
    }
  } finally {
    db.close();
  }
}

/** breakdown.txt's per-transformation counts against the records. */
function checkBreakdown(path: string, f: FromFiles) {
  const text = readFileSync(path, 'utf8');
  const rows = new Map<string, [number, number, number]>();
  for (const m of text.matchAll(/^(\S+::\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s/gm)) {
    rows.set(m[1], [Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  expect(rows).toEqual(f.byTransformation);
}

describe('a successful run', () => {
  it('status, analyzer and statistics numbers are what the files say', async () => {
    expect(success.exitCodes).toEqual([0]);
    const f = fromFiles(success.submitDir);
    const n = f.jobs.length;
    expect(f).toMatchObject({ done: n, failed: 0, unsubmitted: 0, jobRetries: 0 });
    expect(f.tasks).toEqual({ total: 13, succeeded: 13, failed: 0, tries: 13 });
    await checkAgainstFiles(success.submitDir, f, 'Success');
    const { db } = await openMonitor(success.submitDir);
    const r = queryStatus(db, success.submitDir, { long: true });
    const text = formatStatus(r);
    expect(text).toContain('(no job submitted and not done)');
    expect(text).toMatch(
      new RegExp(`\\n\\s+0\\s+0\\s+0\\s+0\\s+0\\s+${n}\\s+0\\s+100.0\\s+Success\\s+koto-mc\\n`),
    );
    expect(text).toContain('[########################################] 100.0%');
    expect(statusJson(r)).toMatchObject({
      totals: { succeeded: n, total: n },
      dags: { root: { state: 'Success', dagname: 'koto-mc' } },
    });
    expect(analyze(db, success.submitDir).failedJobs).toEqual([]);
    db.close();
  });

  it('statistics -s all: the summary text and every file', async () => {
    const f = fromFiles(success.submitDir);
    const { db } = await openMonitor(success.submitDir);
    const r = await writeStatistics(db, success.submitDir, { level: 'all' });
    db.close();
    expect(r.text).toMatch(/Tasks\s+13\s+0\s+0\s+13\s+0\s+13/);
    const n = f.jobs.length;
    expect(r.text).toMatch(new RegExp(`Jobs\\s+${n}\\s+0\\s+0\\s+${n}\\s+0\\s+${n}\\n`));
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
    checkBreakdown(join(dir, 'breakdown.txt'), f);
    const jobs = readFileSync(join(dir, 'jobs.txt'), 'utf8').trim().split('\n');
    const rows = jobs.filter((l) => !l.startsWith('#')).slice(1);
    expect(rows).toHaveLength(f.attempts);
    // Runtime column: the engine's duration of each attempt
    for (const l of rows) {
      const c = l.split('\t');
      expect(Number(c[10]), c[0]).toBeCloseTo(f.verdict.get(`${c[0]}#${c[1]}`)?.[2] ?? Number.NaN, 6);
    }
    const svg = readFileSync(join(dir, 'gantt.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<title>[^<]* try 1: success/g)).toHaveLength(n);
  });
});

describe('a failed run (one task fails every try)', () => {
  it('status, analyzer and statistics numbers are what the files say', async () => {
    expect(retry.exitCodes[0]).toBe(1);
    const f = fromFiles(failure.submitDir);
    expect(f.lastEvent.get(FAILING_CLUSTER)).toBe('POST_SCRIPT_FAILURE');
    expect(f.lastSeq.get(FAILING_CLUSTER)).toBe(3);
    expect(f.failed).toBe(1);
    await checkAgainstFiles(failure.submitDir, f, 'Failure');
  });

  it('analyzer: the failed clustered job, its failed task, exit codes, output and records', async () => {
    const f = fromFiles(failure.submitDir);
    const { db } = await openMonitor(failure.submitDir);
    const a = analyze(db, failure.submitDir);
    db.close();
    expect(a.failedJobs).toHaveLength(1);
    const j = a.failedJobs[0];
    const exit = f.verdict.get(`${FAILING_CLUSTER}#3`)?.[1];
    expect(exit).toBe(1);
    expect(j).toMatchObject({
      name: FAILING_CLUSTER,
      kind: 'cluster',
      lastState: 'POST_SCRIPT_FAILURE',
      try: 3,
      site: 'local',
      exitCode: exit,
      signal: null,
      record: `invocations/${FAILING_CLUSTER}.002.yml`,
      stdoutFile: `jobs/${FAILING_CLUSTER}.out.002`,
      stderrFile: `jobs/${FAILING_CLUSTER}.err.002`,
      failedTaskCount: 1,
    });
    expect(j.hostname).toBeTruthy();
    // the runner runs in the job's work dir, with absolute paths into the submit dir's clusters/
    expect(j.workDir).toBe(join(failure.dir, 'local-scratch/run0001'));
    expect(j.command).toContain(`mpi-cluster --transport zmq`);
    expect(j.command).toContain(`/clusters/${FAILING_CLUSTER}.dag`);
    expect(j.stderrTail).toContain(`Task ${FAILING_TASK} failed`);
    expect(j.stdoutTail).toContain('[cluster-summary stat="failed"');
    const tries = f.clusterTries.get(FAILING_CLUSTER) as number[];
    expect(j.failedTasks?.[0]).toMatchObject({
      index: 4,
      abstractId: FAILING_TASK,
      transformation: 'koto::koto-sim:1.0',
      tries: tries[2], // every try of the last attempt was this task's
      exitCode: 7,
      signal: null,
      stderr: `koto-sim: seed ${FAILING_SEED}: detector geometry rejected (KOTO_FAIL_SEED)`,
      stdout: null,
    });
    expect(j.failedTasks?.[0].command).toContain(`/examples/koto/bin/koto-sim --geometry koto-geometry.gdml`);
    expect(j.failedTasks?.[0].command).toContain(`--seed ${FAILING_SEED}`);
    // the byte offset points at the record
    const rec = j.failedTasks?.[0].record as string;
    expect(rec).toMatch(new RegExp(`^clusters/${FAILING_CLUSTER}.dag.invocations.yml \\(byte \\d+\\)$`));
    const off = Number(/byte (\d+)/.exec(rec)?.[1]);
    const file = readFileSync(join(failure.submitDir, `clusters/${FAILING_CLUSTER}.dag.invocations.yml`));
    expect(file.subarray(off, off + 18).toString()).toBe('- invocation: true');
    expect(file.subarray(off, off + 1500).toString()).toMatch(/derivation: "4"[\s\S]*raw: 1792/);
    const text = formatAnalyzer(a);
    expect(text).toContain(` # jobs failed      :      1 (${((1 / f.jobs.length) * 100).toFixed(2)}%)`);
    expect(text).toContain(`Task #4 - koto::koto-sim:1.0 - ${FAILING_TASK}`);
    expect(text).toContain(`exit code: 7 (after ${tries[2]} tries)`);
  });

  it('statistics -s all: badput, failed tries in the breakdown, a red bar per failed attempt', async () => {
    const f = fromFiles(failure.submitDir);
    const out = join(failure.dir, 'stats-failed');
    const { db } = await openMonitor(failure.submitDir);
    const r = await writeStatistics(db, failure.submitDir, { level: 'all', outputDir: out });
    db.close();
    expect(r.summary.badput).toBeGreaterThan(0);
    expect(r.summary.badputSubmitSide).toBeGreaterThan(0);
    checkBreakdown(join(out, 'breakdown.txt'), f);
    const svg = readFileSync(join(out, 'gantt.svg'), 'utf8');
    expect(svg.match(/<title>[^<]* try \d: failure/g)).toHaveLength(3);
  });
});

describe('a rescue run: the failed run, the input fixed, run again', () => {
  it('every number counts both engine runs', async () => {
    expect(retry.exitCodes).toEqual([1, 0]);
    const f = fromFiles(retry.submitDir);
    expect(f.engineStarts).toBe(2);
    expect(f.lastSeq.get(FAILING_CLUSTER)).toBe(4);
    // attempt 4 ran only the task the rescue log had not marked done
    expect(f.clusterTries.get(FAILING_CLUSTER)?.[3]).toBe(1);
    await checkAgainstFiles(retry.submitDir, f, 'Success');
    const { db } = await openMonitor(retry.submitDir);
    const text = formatStatus(queryStatus(db, retry.submitDir));
    expect(text).toContain(', 2 engine starts');
    const r = await writeStatistics(db, retry.submitDir, { outputDir: join(retry.dir, 'stats') });
    db.close();
    expect(r.summary.jobs).toMatchObject({ succeeded: f.jobs.length, failed: 0, retries: 3 });
    expect(r.summary.tasks).toMatchObject({ succeeded: 13, failed: 0, incomplete: 0 });
  });
});

describe('a removed run, watched while it runs, then resumed', () => {
  it('shows the run live, the aborted attempt as READY (not failed), and counts it after the resume', async () => {
    const { dir, submitDir } = await planExample('monitor-removed-');
    try {
      const env = { KOTO_SLEEP: '0.5' };
      const started = await pegasusTs(['run', submitDir], dir, env);
      expect(started.code).toBe(0);
      // live: the monitor follows the engine's files while it runs
      const ing = new Ingester(submitDir);
      // (until a clustered job runs and one of its tasks has ended: its tasks take 0.5 s each, so
      // remove catches it running; a SIGTERM before the runner's workers have joined leaves the
      // runner hanging, a known problem of the cluster runner)
      const inQueue = () => live.jobs?.filter((j) => j.category === 'IN_Q').map((j) => j.name) ?? [];
      const clusterBusy = () =>
        inQueue().some((n) => {
          try {
            return (
              n.startsWith('merge_koto') &&
              statSync(join(submitDir, `clusters/${n}.dag.invocations.yml`)).size > 0
            );
          } catch {
            return false;
          }
        });
      let live = queryStatus(ing.db, submitDir, { long: true });
      for (let i = 0; i < 1000 && !clusterBusy(); i++) {
        await new Promise((res) => setTimeout(res, 20));
        await ing.ingest();
        live = queryStatus(ing.db, submitDir, { long: true });
      }
      expect(live.run.state).toBe('Running');
      expect(live.totals.queued).toBe(inQueue().length);
      expect(live.totals.succeeded).toBeGreaterThan(0);
      expect(clusterBusy()).toBe(true);
      const removed = await pegasusTs(['remove', submitDir], dir);
      expect(removed.code).toBe(0);
      await ing.ingest();
      const f = fromFiles(submitDir);
      const aborted = f.jobs.filter((j) => f.lastEvent.get(j) === 'JOB_ABORTED');
      expect(aborted.length).toBeGreaterThan(0);
      const s = queryStatus(ing.db, submitDir, { long: true });
      expect(s.run).toMatchObject({ state: 'Failure', status: 2 });
      expect(formatStatus(s)).toContain('Failure (stopped)');
      expect(s.totals.failed).toBe(0);
      expect(s.jobs?.filter((j) => j.state === 'JOB_ABORTED').map((j) => [j.name, j.category])).toEqual(
        aborted.map((j) => [j, 'READY']),
      );
      const a = analyze(ing.db, submitDir);
      expect(a.failedJobs).toEqual([]);
      // status and analyzer say the same: a stopped run is a Failure (stopped), and analyzer exits 1
      expect(formatAnalyzer(a)).toContain('Workflow Status    : Failure (stopped): pegasus-ts remove');
      expect(analyzerExitCode(a)).toBe(1);
      // the aborted attempt's exit code and duration are the engine's
      const [, exit, secs] = f.verdict.get(`${aborted[0]}#1`) as [string, number, number];
      const row = ing.db
        .prepare(
          `SELECT ji.final, ji.exitcode, ji.local_duration FROM job_instance ji JOIN job j ON j.job_id = ji.job_id
           WHERE j.exec_job_id = ? AND ji.job_submit_seq = 1`,
        )
        .get(aborted[0]);
      expect(row).toEqual({
        final: 'aborted',
        exitcode: exit > 128 ? exit - 128 : exit << 8,
        local_duration: secs,
      });
      ing.close();
      // resumed: everything done; the aborted attempt is a retry, not a failure, and no badput
      expect(await runEngine(dir, submitDir, false)).toBe(0);
      const g = fromFiles(submitDir);
      await checkAgainstFiles(submitDir, g, 'Success');
      const { db } = await openMonitor(submitDir);
      const sum = querySummary(db, submitDir);
      db.close();
      expect(sum.jobs.retries).toBe(g.jobRetries);
      expect(g.jobRetries).toBeGreaterThanOrEqual(aborted.length);
      expect(sum.badputSubmitSide).toBe(0);
    } finally {
      killProcessesUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('incremental ingest', () => {
  it('a second pass adds nothing; a new database from the same files is the same', async () => {
    const dir = copyOf(failure, 'again');
    const first = await ingest(dir);
    expect(first.planJobs).toBe(fromFiles(dir).jobs.length);
    const db = new Database(join(dir, 'workflow.db'), { readonly: true });
    const before = counts(db);
    const second = await ingest(dir);
    expect(second).toMatchObject({ planJobs: 0, jobstateLines: 0, records: 0 });
    expect(counts(db)).toEqual(before);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('the rescue run replayed as it was written (cut mid-line, mid-record) gives the rows of a one-shot read', async () => {
    const whole = copyOf(retry, 'whole');
    await ingest(whole);
    const a = new Database(join(whole, 'workflow.db'), { readonly: true });
    // where each attempt's task records start in its cluster's record file
    const starts = new Map<string, number>();
    for (const r of a
      .prepare(
        `SELECT j.exec_job_id AS job, ji.job_submit_seq AS seq, min(i.record_offset) AS off FROM invocation i
         JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
         WHERE j.clustered = 1 AND i.task_submit_seq >= 1 GROUP BY 1, 2`,
      )
      .all() as { job: string; seq: number; off: number }[])
      starts.set(`${r.job}#${r.seq}`, r.off);
    const dir = copyOf(retry, 'growing');
    const logPath = join(dir, 'jobstate.log');
    const log = readFileSync(logPath, 'utf8');
    truncateSync(logPath, 0);
    const recs = new Map<string, Buffer>();
    for (const f of readdirSync(join(dir, 'clusters')).filter((x) => x.endsWith('.dag.invocations.yml'))) {
      recs.set(f.slice(0, -'.dag.invocations.yml'.length), readFileSync(join(dir, 'clusters', f)));
      truncateSync(join(dir, 'clusters', f), 0);
    }
    renameSync(join(dir, 'invocations'), join(dir, 'invocations.all'));
    mkdirSync(join(dir, 'invocations'));
    // Replay the run as the engine, kickstart and the runner wrote it: jobstate.log line by line,
    // each line in two pieces; before an attempt's JOB_TERMINATED line its task records (in three
    // pieces, cut mid-record) and its kickstart record; an ingest pass after every piece.
    const ing = new Ingester(dir, { chunkBytes: 4096, quietSeconds: 3600 });
    let passes = 0;
    const pass = async () => {
      await ing.ingest();
      passes++;
    };
    for (const line of log.split(/(?<=\n)/)) {
      const m = /^\d+ (\S+) JOB_TERMINATED \S+ \S+ - (\d+)/.exec(line);
      if (m) {
        const [job, seq] = [m[1], Number(m[2])];
        const rec = recs.get(job);
        const from = starts.get(`${job}#${seq}`);
        if (rec && from !== undefined) {
          let to = rec.length;
          for (const [k, off] of starts) if (k.startsWith(`${job}#`) && off > from) to = Math.min(to, off);
          const cuts = [
            from,
            from + Math.floor((to - from) * 0.37),
            from + Math.floor((to - from) * 0.71),
            to,
          ];
          for (let k = 0; k < 3; k++) {
            appendFileSync(
              join(dir, `clusters/${job}.dag.invocations.yml`),
              rec.subarray(cuts[k], cuts[k + 1]),
            );
            await pass();
          }
        }
        const ks = `${job}.${String(seq - 1).padStart(3, '0')}.yml`;
        cpSync(join(dir, 'invocations.all', ks), join(dir, 'invocations', ks));
      }
      const half = Math.floor(line.length / 2);
      appendFileSync(logPath, line.slice(0, half));
      await pass();
      appendFileSync(logPath, line.slice(half));
      await pass();
    }
    ing.close();
    expect(passes).toBeGreaterThan(200);
    const b = new Database(join(dir, 'workflow.db'), { readonly: true });
    expect(counts(b)).toEqual(counts(a));
    const inv = (db: Database.Database) =>
      db
        .prepare(
          `SELECT j.exec_job_id, ji.job_submit_seq, i.task_submit_seq, i.task_id, i.exitcode, i.host_id, i.stderr_text,
             i.record_file, i.record_offset
           FROM invocation i JOIN job_instance ji ON ji.job_instance_id = i.job_instance_id JOIN job j ON j.job_id = ji.job_id
           ORDER BY j.exec_job_id, ji.job_submit_seq, i.record_file, i.record_offset`,
        )
        .all();
    expect(inv(b)).toEqual(inv(a));
    const states = (db: Database.Database) =>
      db
        .prepare(
          `SELECT j.exec_job_id, s.state, s.timestamp, s.jobstate_submit_seq FROM jobstate s
           JOIN job_instance ji ON ji.job_instance_id = s.job_instance_id JOIN job j ON j.job_id = ji.job_id ORDER BY s.rowid`,
        )
        .all();
    expect(states(b)).toEqual(states(a));
    a.close();
    b.close();
  });

  it('a database of an older schema is rebuilt from the files', async () => {
    const dir = copyOf(success, 'old-schema');
    const old = new Database(join(dir, 'workflow.db'));
    old.exec(
      "CREATE TABLE dbversion (id INTEGER PRIMARY KEY, version_number INTEGER, version TEXT, version_timestamp REAL); INSERT INTO dbversion VALUES (1, 1, 'old', 0); CREATE TABLE job (job_id INTEGER PRIMARY KEY, stale TEXT);",
    );
    old.close();
    const st = await ingest(dir);
    expect(st.planJobs).toBe(fromFiles(dir).jobs.length);
    const db = new Database(join(dir, 'workflow.db'), { readonly: true });
    expect(db.prepare('SELECT max(version_number) AS v FROM dbversion').get()).toEqual({ v: SCHEMA_VERSION });
    expect((db.prepare('SELECT count(*) AS n FROM job').get() as { n: number }).n).toBe(st.planJobs);
    db.close();
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
    expect((reader.prepare('SELECT count(*) AS n FROM job').get() as { n: number }).n).toBe(
      fromFiles(dir).jobs.length,
    );
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
