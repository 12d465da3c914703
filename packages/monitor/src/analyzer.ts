import { join } from 'node:path';
import { shellQuote } from '@pegasus-ts/model';
import type { Db } from './database.js';
import { formatTime } from './format.js';
import { tailFile, tailText } from './internal/tail.js';
import { jobCategory } from './job-category.js';
import { mapSubWorkflows } from './sub-workflows.js';
import { runStateText, type WorkflowRun, workflowInfo, workflowRun } from './workflow-state.js';

/** A failed task inside a failed clustered job (its last try in the job's last attempt). */
export interface FailedTask {
  index: number;
  abstractId: string | null;
  transformation: string | null;
  tries: number;
  exitCode: number | null;
  signal: number | null;
  hostname: string | null;
  command: string;
  stdout: string | null;
  stderr: string | null;
  record: string;
}

export interface FailedJob {
  name: string;
  kind: string;
  lastState: string;
  try: number;
  site: string | null;
  hostname: string | null;
  workDir: string | null;
  exitCode: number | null;
  signal: number | null;
  command: string;
  /** the job's stdout/stderr files of the last try (jobs/NAME.out|err.NNN), when they exist */
  stdoutFile: string;
  stderrFile: string;
  stdoutTail: string | null;
  stderrTail: string | null;
  /** the invocation record of the last try */
  record: string | null;
  /** a clustered job: its failed tasks (at most `taskLimit`), and how many failed in all */
  failedTasks?: FailedTask[];
  failedTaskCount?: number;
  /** a failed sub-workflow job (analyzeTree): the analysis of its sub-workflow */
  subWorkflow?: AnalyzerReport;
}

export interface AnalyzerReport {
  submitDir: string;
  wfUuid: string;
  label: string;
  run: WorkflowRun;
  total: number;
  succeeded: number;
  failed: number;
  /** jobs retrying after a failed attempt */
  failing: number;
  running: number;
  unsubmitted: number;
  failedJobs: FailedJob[];
}

interface InvRow {
  exitcode: number | null;
  exit_code: number | null;
  signal: number | null;
  executable: string | null;
  argv: string | null;
  stdout_text: string | null;
  stderr_text: string | null;
  record_file: string | null;
  record_offset: number | null;
  hostname: string | null;
}

function commandLine(executable: string | null, argv: string | null): string {
  let args: string[] = [];
  try {
    const a: unknown = argv ? JSON.parse(argv) : [];
    if (Array.isArray(a)) args = a.map(String);
  } catch {
    if (argv) args = [argv];
  }
  return [executable ?? '', ...args]
    .filter((s) => s !== '')
    .map(shellQuote)
    .join(' ');
}

/** exit code / signal from a raw wait status (-1: unknown). */
function decodeRaw(raw: number | null): { exitCode: number | null; signal: number | null } {
  if (raw === null || raw < 0) return { exitCode: raw, signal: null };
  if ((raw & 0x7f) !== 0) return { exitCode: null, signal: raw & 0x7f };
  return { exitCode: raw >> 8, signal: null };
}

/**
 * What went wrong: job counts, then each failed job (a job whose last attempt failed and that
 * will not be retried) with its last attempt's site, host, exit code or signal, command line,
 * output tails and record, and for a clustered job the failed tasks inside it.
 */
export function analyze(
  db: Db,
  submitDir: string,
  options: { taskLimit?: number; tailLines?: number } = {},
): AnalyzerReport {
  const info = workflowInfo(db);
  const run = workflowRun(db, submitDir);
  const isRunning = run.state === 'Running';
  const taskLimit = options.taskLimit ?? 10;
  const lines = options.tailLines ?? 20;
  const report: AnalyzerReport = {
    submitDir,
    wfUuid: info.wfUuid,
    label: info.label,
    run,
    total: 0,
    succeeded: 0,
    failed: 0,
    failing: 0,
    running: 0,
    unsubmitted: 0,
    failedJobs: [],
  };
  const groups = db
    .prepare('SELECT state, failures <= max_retries AS can_retry, count(*) AS n FROM job GROUP BY 1, 2')
    .all() as { state: string | null; can_retry: number; n: number }[];
  for (const g of groups) {
    report.total += g.n;
    const c = jobCategory(g.state, g.can_retry === 1, isRunning);
    if (c === null) report.unsubmitted += g.n;
    else if (c === 'DONE') report.succeeded += g.n;
    else if (c === 'FAIL') report.failed += g.n;
    else if (c === 'READY') report.failing += g.n;
    else report.running += g.n;
  }
  const failed = db
    .prepare(
      `SELECT j.job_id, j.exec_job_id AS name, j.type_desc AS kind, j.state, j.last_seq AS seq, j.clustered,
         j.failures <= j.max_retries AS can_retry, j.executable, j.argv,
         ji.job_instance_id AS inst, ji.site, ji.work_dir, ji.exitcode, h.hostname
       FROM job j JOIN job_instance ji ON ji.job_id = j.job_id AND ji.job_submit_seq = j.last_seq
       LEFT JOIN host h ON h.host_id = ji.host_id
       WHERE j.state IN ('POST_SCRIPT_FAILURE', 'JOB_ABORTED', 'SUBMIT_FAILED', 'JOB_EVICTED')
       ORDER BY j.state_time, j.exec_job_id`,
    )
    .iterate() as IterableIterator<{
    job_id: number;
    name: string;
    kind: string;
    state: string;
    seq: number;
    clustered: number;
    can_retry: number;
    executable: string | null;
    argv: string | null;
    inst: number;
    site: string | null;
    work_dir: string | null;
    exitcode: number | null;
    hostname: string | null;
  }>;
  const ownRecord = db.prepare(
    `SELECT i.exitcode, i.exit_code, i.signal, i.executable, i.argv, i.stdout_text, i.stderr_text,
       i.record_file, i.record_offset, h.hostname
     FROM invocation i LEFT JOIN host h ON h.host_id = i.host_id
     WHERE i.job_instance_id = ? AND i.task_submit_seq <= 1 ORDER BY i.invocation_id LIMIT 1`,
  );
  const failedTasks = db.prepare(
    `SELECT i.task_submit_seq AS idx, t.abs_task_id, coalesce(i.transformation, t.transformation) AS tr,
       count(*) AS tries, max(i.invocation_id) AS last_id
     FROM invocation i LEFT JOIN task t ON t.task_id = i.task_id
     WHERE i.job_instance_id = ? AND i.task_submit_seq >= 1
     GROUP BY i.task_submit_seq HAVING sum(i.exitcode = 0) = 0 ORDER BY i.task_submit_seq`,
  );
  const invocation = db.prepare(
    `SELECT i.exitcode, i.exit_code, i.signal, i.executable, i.argv, i.stdout_text, i.stderr_text,
       i.record_file, i.record_offset, h.hostname
     FROM invocation i LEFT JOIN host h ON h.host_id = i.host_id WHERE i.invocation_id = ?`,
  );
  for (const j of failed) {
    if (jobCategory(j.state, j.can_retry === 1, isRunning) !== 'FAIL') continue;
    const nnn = String(j.seq - 1).padStart(3, '0');
    const own = ownRecord.get(j.inst) as InvRow | undefined;
    const status = own ? { exitCode: own.exit_code, signal: own.signal } : decodeRaw(j.exitcode);
    const stdoutFile = `jobs/${j.name}.out.${nnn}`;
    const stderrFile = `jobs/${j.name}.err.${nnn}`;
    const fj: FailedJob = {
      name: j.name,
      kind: j.kind,
      lastState: j.state,
      try: j.seq,
      site: j.site,
      hostname: own?.hostname ?? j.hostname,
      workDir: j.work_dir,
      exitCode: status.exitCode,
      signal: status.signal,
      command: own ? commandLine(own.executable, own.argv) : commandLine(j.executable, j.argv),
      stdoutFile,
      stderrFile,
      stdoutTail:
        tailFile(join(submitDir, stdoutFile), lines) ??
        (own?.stdout_text ? tailText(own.stdout_text, lines) : null),
      stderrTail:
        tailFile(join(submitDir, stderrFile), lines) ??
        (own?.stderr_text ? tailText(own.stderr_text, lines) : null),
      record: own ? (own.record_file ?? `invocations/${j.name}.${nnn}.yml`) : null,
    };
    if (j.clustered) {
      fj.failedTasks = [];
      fj.failedTaskCount = 0;
      for (const t of failedTasks.iterate(j.inst) as IterableIterator<{
        idx: number;
        abs_task_id: string | null;
        tr: string | null;
        tries: number;
        last_id: number;
      }>) {
        fj.failedTaskCount++;
        if (fj.failedTasks.length >= taskLimit) continue;
        const r = invocation.get(t.last_id) as InvRow;
        fj.failedTasks.push({
          index: t.idx,
          abstractId: t.abs_task_id,
          transformation: t.tr,
          tries: t.tries,
          exitCode: r.exit_code,
          signal: r.signal,
          hostname: r.hostname,
          command: commandLine(r.executable, r.argv),
          stdout: r.stdout_text ? tailText(r.stdout_text, lines) : null,
          stderr: r.stderr_text ? tailText(r.stderr_text, lines) : null,
          record: `${r.record_file} (byte ${r.record_offset})`,
        });
      }
    }
    report.failedJobs.push(fj);
  }
  return report;
}

const STARS = (title: string) => {
  const pad = 80 - title.length;
  return `${'*'.repeat(Math.floor(pad / 2))}${title}${'*'.repeat(Math.ceil(pad / 2))}`;
};

function pct(n: number, total: number): string {
  return `${total === 0 ? '0.00' : ((n / total) * 100).toFixed(2)}%`;
}

function indentBlock(text: string | null, empty: string): string {
  if (text === null || text === '') return `    ${empty}\n`;
  return `${text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
}

function exitText(code: number | null, signal: number | null): string {
  if (signal !== null) return `killed by signal ${signal}`;
  if (code === null) return 'unknown';
  if (code === -1) return 'unknown (-1)';
  return String(code);
}

/**
 * The analyzer's exit code: 0 when nothing went wrong so far (the workflow succeeded, or runs
 * with no job failed for good, or never started), 1 when a job failed for good or the run ended
 * without succeeding (failed, stopped, engine gone): status says `Failure` exactly then.
 */
/**
 * analyze, descending into the failed sub-workflow jobs: each one's sub-workflow (when planned) is
 * analyzed in turn, its database brought up to date first, as pegasus-analyzer does.
 */
export async function analyzeTree(
  db: Db,
  submitDir: string,
  options: { taskLimit?: number; tailLines?: number } = {},
  seen?: ReadonlySet<string>,
): Promise<AnalyzerReport> {
  const r = analyze(db, submitDir, options);
  const failed = new Map(r.failedJobs.filter((j) => j.kind === 'sub-workflow').map((j) => [j.name, j]));
  if (failed.size === 0) return r;
  await mapSubWorkflows(
    db,
    submitDir,
    async (sub, subDb, above) => {
      const job = failed.get(sub.job);
      if (job) job.subWorkflow = await analyzeTree(subDb, sub.dir, options, above);
    },
    seen,
  );
  return r;
}

export function analyzerExitCode(r: AnalyzerReport): 0 | 1 {
  return r.failed > 0 || r.run.state === 'Failure' ? 1 : 0;
}

/** pegasus-analyzer's text: the Summary block, then each failed job's details. */
export function formatAnalyzer(r: AnalyzerReport): string {
  let o = '';
  o += `${STARS('Summary')}\n\n`;
  o += ` Submit Directory   : ${r.submitDir}\n`;
  const why = r.run.lost
    ? ': the engine died without finishing; run it again to resume'
    : r.run.status === 2
      ? ': pegasus-ts remove or a signal stopped the engine; run it again to resume'
      : '';
  o += ` Workflow Status    : ${runStateText(r.run)}${why}\n`;
  const row = (label: string, n: number) =>
    ` ${label.padEnd(19)}: ${String(n).padStart(6)} (${pct(n, r.total)})\n`;
  o += row('Total jobs', r.total);
  o += row('# jobs succeeded', r.succeeded);
  o += row('# jobs failed', r.failed);
  o += row('# jobs held', 0);
  o += row('# jobs retrying', r.failing);
  o += row('# jobs running', r.running);
  o += row('# jobs unsubmitted', r.unsubmitted);
  o += '\n';
  if (r.failedJobs.length === 0) {
    o += r.failed === 0 ? 'No failed jobs.\n' : '';
    return o;
  }
  o += `${STARS("Failed jobs' details")}\n`;
  for (const j of r.failedJobs) {
    o += `\n${'='.repeat(Math.max(0, 38 - Math.floor(j.name.length / 2)))}${j.name}${'='.repeat(Math.max(0, 38 - Math.ceil(j.name.length / 2)))}\n\n`;
    o += ` last state: ${j.lastState}\n`;
    o += `       site: ${j.site ?? '-'}\n`;
    o += `       host: ${j.hostname ?? '-'}\n`;
    o += `        try: ${j.try}\n`;
    o += `  exit code: ${exitText(j.exitCode, j.signal)}\n`;
    o += `   work dir: ${j.workDir ?? '-'}\n`;
    o += `    command: ${j.command}\n`;
    o += `     record: ${j.record ?? '(none)'}\n`;
    o += `output file: ${j.stdoutFile}\n`;
    o += ` error file: ${j.stderrFile}\n`;
    o += `\n-------------------------------- ${j.name} stdout (last lines) --------------------------------\n`;
    o += indentBlock(j.stdoutTail, '(empty)');
    o += `-------------------------------- ${j.name} stderr (last lines) --------------------------------\n`;
    o += indentBlock(j.stderrTail, '(empty)');
    if (j.failedTasks) {
      o += `\n ${j.failedTaskCount} failed task(s) inside the clustered job${j.failedTaskCount! > j.failedTasks.length ? ` (the first ${j.failedTasks.length} shown)` : ''}:\n`;
      for (const t of j.failedTasks) {
        o += `\n  Task #${t.index} - ${t.transformation ?? '-'} - ${t.abstractId ?? '-'}\n`;
        o += `     exit code: ${exitText(t.exitCode, t.signal)} (after ${t.tries} ${t.tries === 1 ? 'try' : 'tries'})\n`;
        o += `          host: ${t.hostname ?? '-'}\n`;
        o += `       command: ${t.command}\n`;
        o += `        record: ${t.record}\n`;
        o += `  --- stdout ---\n${indentBlock(t.stdout, '(none)')}`;
        o += `  --- stderr ---\n${indentBlock(t.stderr, '(none)')}`;
      }
    }
    if (j.subWorkflow) {
      o += `\n ${j.name} is a sub-workflow (${j.subWorkflow.submitDir}); its analysis:\n\n`;
      o += indentBlock(formatAnalyzer(j.subWorkflow).trimEnd(), '');
    }
  }
  o += `\n${STARS('')}\n`;
  o += `${r.failed} failed job(s) in workflow ${r.label} (${r.wfUuid})${r.run.lastEnd ? `, ended ${formatTime(r.run.lastEnd)}` : ''}\n`;
  return o;
}
