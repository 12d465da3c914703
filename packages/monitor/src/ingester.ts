import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readClusterDag } from './cluster-dag-reader.js';
import { type Db, dbPath, INVOCATION_TASK_INDEX, openDatabase } from './database.js';
import { MonitorError } from './errors.js';
import { readRange } from './internal/line-reader.js';
import {
  eachInvocation,
  type ParsedInvocation,
  parseInvocationRecord,
  parseInvocationText,
} from './invocation-parser.js';
import { FINAL_EVENTS, type JobEventLine, parseJobstateLine, type WorkflowEvent } from './jobstate-line.js';
import { type PlanJob, readPlan } from './plan-reader.js';

/** What one ingest pass added. */
export interface IngestStats {
  /** plan.yml read in this pass (first pass only) */
  planJobs: number;
  tasks: number;
  edges: number;
  /** jobstate.log lines applied, and lines that were not jobstate lines (skipped) */
  jobstateLines: number;
  badLines: number;
  /** invocation records stored (invocations/ and clusters/*.dag.invocations.yml) */
  records: number;
  badRecords: number;
  /** bytes of jobstate.log and record files read */
  bytes: number;
  ms: number;
}

export interface IngesterOptions {
  /** the database file (default: SUBMIT_DIR/workflow.db) */
  dbPath?: string;
  /** bytes read per transaction from an append-only file (default 16 MB) */
  chunkBytes?: number;
  /**
   * seconds a cluster's record file must have been quiet before its last record is read while
   * its job still runs (default 2): the runner may be in the middle of appending it
   */
  quietSeconds?: number;
}

export interface Watcher {
  /** stops polling, runs one last pass and resolves with the totals of all passes */
  stop(): Promise<IngestStats>;
}

const WF = 1;
const JOBSTATE = 'jobstate.log';
const TAIL_BYTES = 16384;
/** a catch-up of more record bytes than this runs in bulk mode (see ingestClusterRecords) */
const BULK_BYTES = 64 << 20;

const emptyStats = (): IngestStats => ({
  planJobs: 0,
  tasks: 0,
  edges: 0,
  jobstateLines: 0,
  badLines: 0,
  records: 0,
  badRecords: 0,
  bytes: 0,
  ms: 0,
});

function addStats(a: IngestStats, b: IngestStats): void {
  for (const k of Object.keys(a) as (keyof IngestStats)[]) a[k] += b[k];
}

const yieldLoop = () => new Promise<void>((r) => setImmediate(r));

function tail(s: string | null): string | null {
  if (s === null) return null;
  return s.length > TAIL_BYTES ? s.slice(s.length - TAIL_BYTES) : s;
}

/** jobstate exit code (128+N for signal N, -1 unknown) -> raw wait status, as stampede stores it. */
export function rawStatus(exit: number): number {
  if (!Number.isInteger(exit) || exit < 0) return -1;
  if (exit > 128 && exit < 128 + 65) return exit - 128;
  return (exit & 0xff) << 8;
}

interface ClusterJobRow {
  job_id: number;
  site: string | null;
  exec_job_id: string;
  dag_file: string | null;
  first_task_id: number | null;
  task_count: number;
}

interface InstanceRow {
  job_instance_id: number;
  job_submit_seq: number;
  submit_time: number | null;
  cluster_start: number | null;
  cluster_duration: number | null;
  site: string | null;
  state: string | null;
  final: string | null;
}

/**
 * Feeds the monitor database from a submit dir's files, incrementally: plan.yml and
 * braindump.yml once (workflow, jobs, tasks, edges, files), then jobstate.log and the record
 * files (invocations/JOB.NNN.yml, clusters/JOB.dag.invocations.yml) from where the last pass
 * stopped. The byte offset of each file is committed in the same transaction as the rows read
 * from it, and a partly written last line or record is left for the next pass, so passes (and
 * restarts of the engine, of this process, or two processes at once) neither repeat nor lose
 * rows.
 */
export class Ingester {
  readonly db: Db;
  private readonly chunk: number;
  private readonly quiet: number;
  private hostIds = new Map<string, number>();
  private lastHost: [string | null, string | null, string | null, number] | undefined;
  private jobIds = new Map<string, number>();
  private readonly st: Record<string, import('better-sqlite3').Statement>;

  constructor(
    readonly submitDir: string,
    options: IngesterOptions = {},
  ) {
    let isDir = false;
    try {
      isDir = statSync(submitDir).isDirectory();
    } catch {}
    if (!isDir) throw new MonitorError(`${submitDir}: no such submit directory`);
    const chunk = options.chunkBytes ?? 16 << 20;
    if (!Number.isInteger(chunk) || chunk < 4096 || chunk > 1 << 30) {
      throw new MonitorError(`chunkBytes ${chunk}: expected an integer from 4096 to 2^30`);
    }
    this.chunk = chunk;
    this.quiet = options.quietSeconds ?? 2;
    this.db = openDatabase(options.dbPath ?? dbPath(submitDir));
    const db = this.db;
    this.st = {
      getOffset: db.prepare('SELECT offset, done FROM ingest_offset WHERE source = ?'),
      setOffset: db.prepare(
        'INSERT INTO ingest_offset (source, offset, done) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET offset = excluded.offset, done = excluded.done',
      ),
      jobId: db.prepare('SELECT job_id FROM job WHERE exec_job_id = ?'),
      insertJob: db.prepare(
        `INSERT INTO job (wf_id, exec_job_id, type_desc, site, clustered, max_retries, transformation,
           executable, argv, task_count, first_task_id, dag_file, multiplier_factor)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateJobTasks: db.prepare('UPDATE job SET task_count = ?, first_task_id = ? WHERE job_id = ?'),
      insertTask: db.prepare(
        `INSERT INTO task (wf_id, job_id, task_index, abs_task_id, name, transformation, argv, type_desc)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertEdge: db.prepare(
        `INSERT INTO job_edge (wf_id, parent_exec_job_id, child_exec_job_id) VALUES (${WF}, ?, ?)`,
      ),
      insertFile: db.prepare(`INSERT INTO files (wf_id, job_id, lfn, file_type) VALUES (${WF}, ?, ?, ?)`),
      instance: db.prepare(
        `INSERT INTO job_instance (job_id, job_submit_seq, multiplier_factor)
         VALUES (?, ?, (SELECT multiplier_factor FROM job WHERE job_id = ?))
         ON CONFLICT (job_id, job_submit_seq) DO UPDATE SET job_id = excluded.job_id
         RETURNING job_instance_id`,
      ),
      insertJobstate: db.prepare(
        'INSERT INTO jobstate (job_instance_id, state, timestamp, jobstate_submit_seq) VALUES (?, ?, ?, ?)',
      ),
      updateInstance: db.prepare(
        `UPDATE job_instance SET state = ?, state_time = ?, site = coalesce(?, site),
           sched_id = coalesce(?, sched_id), submit_time = coalesce(submit_time, ?),
           execute_time = coalesce(execute_time, ?), exitcode = coalesce(?, exitcode),
           local_duration = coalesce(?, local_duration), end_time = coalesce(?, end_time),
           final = coalesce(?, final)
         WHERE job_instance_id = ?`,
      ),
      updateJobState: db.prepare(
        'UPDATE job SET last_seq = ?, state = ?, state_time = ? WHERE job_id = ? AND last_seq <= ?',
      ),
      addFailure: db.prepare('UPDATE job SET failures = failures + 1 WHERE job_id = ?'),
      resetFailures: db.prepare('UPDATE job SET failures = 0 WHERE failures > 0'),
      insertWfState: db.prepare(
        `INSERT INTO workflowstate (wf_id, state, timestamp, restart_count, status, pid)
         VALUES (${WF}, ?, ?, (SELECT count(*) FROM workflowstate WHERE state = 'WORKFLOW_STARTED') - ?, ?, ?)`,
      ),
      host: db.prepare(
        `INSERT INTO host (wf_id, site, hostname, ip) VALUES (${WF}, ?, ?, ?)
         ON CONFLICT (wf_id, site, hostname, ip) DO UPDATE SET site = excluded.site RETURNING host_id`,
      ),
      insertInvocation: db.prepare(
        `INSERT INTO invocation (wf_id, job_instance_id, task_submit_seq, task_id, start_time,
           remote_duration, remote_cpu_time, exitcode, exit_code, signal, transformation, executable,
           argv, abs_task_id, maxrss, avg_cpu, host_id, work_dir, stdout_text, stderr_text,
           record_file, record_offset)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertTaskInvocation: db.prepare(
        `INSERT INTO invocation (wf_id, job_instance_id, task_submit_seq, task_id, start_time,
           remote_duration, remote_cpu_time, exitcode, exit_code, signal, transformation, maxrss,
           avg_cpu, host_id, record_offset)
         VALUES (${WF}, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?, ?, ?, ?)`,
      ),
      instanceFromRecord: db.prepare(
        `UPDATE job_instance SET host_id = coalesce(host_id, ?), work_dir = coalesce(work_dir, ?),
           cluster_start = coalesce(cluster_start, ?), cluster_duration = coalesce(cluster_duration, ?),
           stdout_file = ?, stderr_file = ?, record_state = 1, record_start = ?, record_duration = ?
         WHERE job_instance_id = ?`,
      ),
      instanceHost: db.prepare(
        'UPDATE job_instance SET host_id = coalesce(host_id, ?), work_dir = coalesce(work_dir, ?) WHERE job_instance_id = ?',
      ),
      setRecordState: db.prepare('UPDATE job_instance SET record_state = ? WHERE job_instance_id = ?'),
      pendingRecords: db.prepare(
        `SELECT ji.job_instance_id AS id, ji.job_submit_seq AS seq, ji.final AS final, ji.state_time AS t,
           ji.site AS site, j.exec_job_id AS name, j.clustered AS clustered,
           j.first_task_id AS first_task_id, j.task_count AS task_count
         FROM job_instance ji JOIN job j ON j.job_id = ji.job_id
         WHERE ji.record_state = 0 AND (ji.final IS NOT NULL OR ji.end_time IS NOT NULL)`,
      ),
      clusterJobs: db.prepare(
        'SELECT job_id, site, exec_job_id, dag_file, first_task_id, task_count FROM job WHERE clustered = 1',
      ),
      instancesOf: db.prepare(
        `SELECT job_instance_id, job_submit_seq, submit_time, cluster_start, cluster_duration, site, state, final
         FROM job_instance
         WHERE job_id = ? ORDER BY job_submit_seq`,
      ),
      tasksOf: db.prepare(
        'SELECT task_id, task_index, name, abs_task_id FROM task WHERE task_id BETWEEN ? AND ?',
      ),
      meta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      running: db.prepare(
        "SELECT state FROM workflowstate WHERE state IN ('WORKFLOW_STARTED', 'WORKFLOW_TERMINATED') ORDER BY id DESC LIMIT 1",
      ),
    };
  }

  /** One pass over the submit dir's files. */
  async ingest(): Promise<IngestStats> {
    const t0 = performance.now();
    const stats = emptyStats();
    this.ingestPlan(stats);
    await this.ingestJobstate(stats);
    await this.ingestJobRecords(stats);
    await this.ingestClusterRecords(stats);
    stats.ms = performance.now() - t0;
    return stats;
  }

  /**
   * Runs a pass every `intervalMs` (default 250) until `stop()`, which runs one last pass.
   * Errors of a pass go to `onError` (default: thrown away) and the next pass tries again.
   */
  watch(options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): Watcher {
    const interval = options.intervalMs ?? 250;
    if (!Number.isFinite(interval) || interval < 10 || interval > 3_600_000) {
      throw new MonitorError(`intervalMs ${interval}: expected a number from 10 to 3600000`);
    }
    const total = emptyStats();
    let stopping = false;
    let wake: (() => void) | undefined;
    const loop = (async () => {
      while (!stopping) {
        try {
          addStats(total, await this.ingest());
        } catch (err) {
          options.onError?.(err);
        }
        if (stopping) break;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, interval);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        wake = undefined;
      }
    })();
    return {
      stop: async () => {
        stopping = true;
        wake?.();
        await loop;
        addStats(total, await this.ingest());
        return total;
      },
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Rolls back the open transaction; the caches may name rows that are gone now. */
  private rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.hostIds.clear();
    this.lastHost = undefined;
    this.jobIds.clear();
  }

  // --- plan ----------------------------------------------------------------------------------

  private ingestPlan(stats: IngestStats): void {
    if (this.st.meta.get('plan')) return;
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (this.st.meta.get('plan')) {
        db.exec('COMMIT');
        return;
      }
      const bd = this.readBraindump();
      const planFile = join(this.submitDir, bd.plan ?? 'plan.yml');
      let isFile = false;
      try {
        isFile = statSync(planFile).isFile();
      } catch {}
      if (!isFile)
        throw new MonitorError(`${this.submitDir}: not a submit directory (no ${bd.plan ?? 'plan.yml'})`);
      let jobs = 0;
      let tasks = 0;
      let edges = 0;
      readPlan(
        planFile,
        {
          header: (h) => {
            db.prepare(
              `INSERT INTO workflow (wf_id, wf_uuid, dag_file_name, timestamp, submit_hostname, submit_dir,
                 planner_arguments, user, planner_version, dax_label, dax_version, dax_file, root_wf_id,
                 job_count, edge_count)
               VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${WF}, ?, ?)`,
            ).run(
              bd.wf_uuid ?? h.wfUuid,
              bd.plan ?? 'plan.yml',
              bd.timestamp ?? h.timestamp,
              bd.submit_hostname ?? null,
              bd.submit_dir ?? h.submitDir,
              bd.planner_arguments ?? null,
              bd.user ?? null,
              bd.planner_version ?? null,
              bd.dax_label ?? h.label,
              bd.dax_version ?? null,
              bd.dax ?? h.workflow,
              h.jobCount,
              h.edgeCount,
            );
          },
          job: (j) => {
            tasks += this.insertPlanJob(j);
            jobs++;
          },
          edge: (p, c) => {
            this.st.insertEdge.run(p, c);
            edges++;
          },
        },
        () => {
          db.exec(
            'DELETE FROM workflow; DELETE FROM job; DELETE FROM task; DELETE FROM job_edge; DELETE FROM files;',
          );
          jobs = tasks = edges = 0;
        },
      );
      db.prepare(`UPDATE workflow SET task_count = ? WHERE wf_id = ${WF}`).run(tasks);
      this.st.setMeta.run('plan', planFile);
      db.exec('COMMIT');
      stats.planJobs += jobs;
      stats.tasks += tasks;
      stats.edges += edges;
    } catch (err) {
      this.rollback();
      throw err;
    }
  }

  private readBraindump(): Record<string, string> {
    const out: Record<string, string> = {};
    let text: string;
    try {
      text = readFileSync(join(this.submitDir, 'braindump.yml'), 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      let v = m[2].trim();
      if (v.startsWith('"')) {
        try {
          v = JSON.parse(v) as string;
        } catch {}
      }
      out[m[1]] = v;
    }
    return out;
  }

  /** Inserts a job of plan.yml with its tasks and files; returns its task count. */
  private insertPlanJob(j: PlanJob): number {
    const clustered = j.kind === 'cluster' ? 1 : 0;
    const exe = j.command[0] ?? null;
    const info = this.st.insertJob.run(
      j.name,
      j.kind,
      j.site,
      clustered,
      j.retries,
      j.transformation,
      exe,
      JSON.stringify(j.command.slice(1)),
      0,
      null,
      j.dag ?? null,
      j.cores,
    );
    const jobId = Number(info.lastInsertRowid);
    let first: number | null = null;
    let count = 0;
    const addTask = (index: number, absId: string, name: string, tr: string, argv: string) => {
      const r = this.st.insertTask.run(jobId, index, absId, name, tr, argv, 'compute');
      if (first === null) first = Number(r.lastInsertRowid);
      count++;
    };
    if (clustered) {
      const n = j.dag
        ? readClusterDag(join(this.submitDir, j.dag), (t) =>
            addTask(t.index, t.abstractId, t.name, t.transformation, t.command),
          )
        : -1;
      if (n < 0 && j.tasks) {
        for (let k = 0; k < j.tasks.length; k++) addTask(k + 1, j.tasks[k], j.tasks[k], '', '');
      }
    } else if (j.kind === 'compute') {
      addTask(1, j.id ?? j.name, j.name, j.transformation, JSON.stringify(j.command));
    }
    if (count > 0) this.st.updateJobTasks.run(count, first, jobId);
    for (const f of j.inputs) this.st.insertFile.run(jobId, f, 'input');
    for (const f of j.outputs) this.st.insertFile.run(jobId, f, 'output');
    return count;
  }

  // --- jobstate.log --------------------------------------------------------------------------

  private jobIdOf(name: string): number {
    let id = this.jobIds.get(name);
    if (id !== undefined) return id;
    const row = this.st.jobId.get(name) as { job_id: number } | undefined;
    if (row) id = row.job_id;
    else {
      // not in the plan (an engine-internal job): keep its events anyway
      id = Number(
        this.st.insertJob.run(name, 'unknown', null, 0, 0, null, null, '[]', 0, null, null, 1)
          .lastInsertRowid,
      );
    }
    if (this.jobIds.size > 200_000) this.jobIds.clear();
    this.jobIds.set(name, id);
    return id;
  }

  private async ingestJobstate(stats: IngestStats): Promise<void> {
    const path = join(this.submitDir, JOBSTATE);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    const db = this.db;
    let want = this.chunk;
    for (;;) {
      const off0 = this.offsetOf(JOBSTATE);
      if (off0 >= size) {
        if (off0 > size) {
          throw new MonitorError(
            `${path}: the file is shorter (${size} bytes) than what was read before (${off0}); it was rewritten: delete ${DB_NAME(this.submitDir)} to rebuild`,
          );
        }
        return;
      }
      let more = false;
      db.exec('BEGIN IMMEDIATE');
      try {
        this.jobIds.clear(); // another writer may have added jobs
        const off = this.offsetOf(JOBSTATE);
        const buf = readRange(path, off, want);
        const last = buf.lastIndexOf(10);
        if (last < 0 && buf.length === want) {
          // a line longer than the chunk: read more at once
          want *= 2;
          more = true;
        }
        if (last >= 0) {
          const text = buf.toString('utf8', 0, last + 1);
          let p = 0;
          while (p < text.length) {
            const nl = text.indexOf('\n', p);
            const line = text.slice(p, nl);
            p = nl + 1;
            const ev = parseJobstateLine(line);
            if (ev === undefined) {
              if (line.trim() !== '') stats.badLines++;
              continue;
            }
            if (ev.kind === 'workflow') this.applyWorkflow(ev);
            else this.applyJob(ev);
            stats.jobstateLines++;
          }
          this.st.setOffset.run(JOBSTATE, off + last + 1, 0);
          stats.bytes += last + 1;
          more = buf.length === want;
          want = this.chunk;
        }
        db.exec('COMMIT');
      } catch (err) {
        this.rollback();
        throw err;
      }
      if (!more) return;
      await yieldLoop();
    }
  }

  private offsetOf(source: string): number {
    const row = this.st.getOffset.get(source) as { offset: number } | undefined;
    return row ? row.offset : 0;
  }

  private applyWorkflow(ev: WorkflowEvent): void {
    if (ev.event === 'DAGMAN_STARTED')
      this.st.insertWfState.run('WORKFLOW_STARTED', ev.time, -1, null, ev.value);
    else if (ev.event === 'DAGMAN_FINISHED') {
      this.st.insertWfState.run('WORKFLOW_TERMINATED', ev.time, 0, ev.value ?? -1, null);
      // as the engine does: an engine end resets the failure counts (a rescue run gets its retries back)
      this.st.resetFailures.run();
    }
  }

  private applyJob(ev: JobEventLine): void {
    const jobId = this.jobIdOf(ev.job);
    const inst = (this.st.instance.get(jobId, ev.seq, jobId) as { job_instance_id: number }).job_instance_id;
    this.st.insertJobstate.run(inst, ev.event, ev.time, ev.seq);
    const site = ev.site !== '-' ? ev.site : null;
    let sched: string | null = null;
    let submit: number | null = null;
    let execute: number | null = null;
    let exitcode: number | null = null;
    let duration: number | null = null;
    let end: number | null = null;
    const final = FINAL_EVENTS[ev.event] ?? null;
    switch (ev.event) {
      case 'SUBMIT':
        submit = ev.time;
        break;
      case 'GRID_SUBMIT':
        sched = ev.field4 !== '-' ? ev.field4 : null;
        break;
      case 'EXECUTE':
        sched = ev.field4 !== '-' ? ev.field4 : null;
        execute = ev.time;
        break;
      case 'JOB_SUCCESS':
      case 'JOB_FAILURE':
      case 'JOB_ABORTED':
      case 'JOB_EVICTED': {
        // exit code and the duration the engine observed ('-' when it does not know)
        const code = ev.field4 === '-' ? Number.NaN : Number(ev.field4);
        if (Number.isInteger(code)) exitcode = rawStatus(code);
        else if (ev.event === 'JOB_SUCCESS' || ev.event === 'JOB_FAILURE') exitcode = -1;
        const d = ev.field6 === '-' ? Number.NaN : Number(ev.field6);
        duration = Number.isFinite(d) && d >= 0 ? d : null;
        end = ev.time;
        break;
      }
      case 'JOB_TERMINATED':
        end = ev.time;
        break;
      default:
        if (final) end = ev.time;
    }
    this.st.updateInstance.run(
      ev.event,
      ev.time,
      site,
      sched,
      submit,
      execute,
      exitcode,
      duration,
      end,
      final,
      inst,
    );
    this.st.updateJobState.run(ev.seq, ev.event, ev.time, jobId, ev.seq);
    if (final === 'failure') this.st.addFailure.run(jobId);
  }

  // --- records ---------------------------------------------------------------------------------

  private hostId(site: string | null, hostname: string | null, ip: string | null): number | null {
    if (hostname === null && ip === null) return null;
    // records come in runs from the same host: compare with the last one before building a key
    const last = this.lastHost;
    if (last !== undefined && last[0] === site && last[1] === hostname && last[2] === ip) return last[3];
    const key = `${site}\0${hostname}\0${ip}`;
    let id = this.hostIds.get(key);
    if (id === undefined) {
      id = (this.st.host.get(site ?? '', hostname ?? '', ip ?? '') as { host_id: number }).host_id;
      this.hostIds.set(key, id);
    }
    this.lastHost = [site, hostname, ip, id];
    return id;
  }

  private insertRecord(
    r: ParsedInvocation,
    instance: number,
    seq: number,
    taskId: number | null,
    site: string | null,
    file: string,
    byteOffset: number,
  ): number | null {
    const host = this.hostId(site ?? r.resource, r.hostname, r.hostaddr);
    const failed = r.raw !== 0;
    const avgCpu = r.cpu !== null && r.duration > 0 ? r.cpu / r.duration : null;
    if (!failed && taskId !== null) {
      // A successful task: its command is in the task table, no output is kept, its record file
      // is its job's (record_file NULL, record_offset kept); a statement with fewer parameters
      // (most of a million records take this path).
      this.st.insertTaskInvocation.run(
        instance,
        seq,
        taskId,
        r.start,
        r.duration,
        r.cpu,
        r.exitCode,
        r.transformation,
        r.maxrss,
        avgCpu,
        host,
        byteOffset,
      );
      return host;
    }
    // A failure, or a record with no task to look its command up in: keep the command, the
    // work dir and for a failure the tail of its output.
    this.st.insertInvocation.run(
      instance,
      seq,
      taskId,
      r.start,
      r.duration,
      r.cpu,
      r.raw,
      r.exitCode,
      r.signal,
      r.transformation,
      r.executable,
      r.argv,
      r.derivation,
      r.maxrss,
      avgCpu,
      host,
      r.cwd,
      failed ? tail(r.stdout) : null,
      failed ? tail(r.stderr) : null,
      file,
      byteOffset,
    );
    return host;
  }

  /** invocations/JOB.NNN.yml of attempts that ended. */
  private async ingestJobRecords(stats: IngestStats): Promise<void> {
    interface Pending {
      id: number;
      seq: number;
      final: string | null;
      t: number | null;
      site: string | null;
      name: string;
      clustered: number;
      first_task_id: number | null;
      task_count: number;
    }
    const pending = this.st.pendingRecords.all() as Pending[];
    const db = this.db;
    const now = Date.now() / 1000;
    for (let i = 0; i < pending.length; i += 2000) {
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const p of pending.slice(i, i + 2000)) {
          const nnn = String(p.seq - 1).padStart(3, '0');
          const rel = `invocations/${p.name}.${nnn}.yml`;
          let text: string;
          try {
            text = readFileSync(join(this.submitDir, rel), 'utf8');
          } catch {
            // no record (yet): an aborted attempt may never get one
            if (p.final !== null && (p.t === null || now - p.t > 5)) this.st.setRecordState.run(2, p.id);
            continue;
          }
          stats.bytes += text.length;
          const { records, bad } = parseInvocationText(text, true);
          stats.badRecords += bad;
          let host: number | null = null;
          records.forEach((r, k) => {
            const seq = p.clustered ? 0 : k + 1;
            const task = !p.clustered && p.task_count === 1 ? p.first_task_id : null;
            const h = this.insertRecord(r, p.id, seq, task, p.site, rel, r.offset);
            host ??= h;
            stats.records++;
          });
          const r0 = records[0];
          this.st.instanceFromRecord.run(
            host,
            r0?.cwd ?? null,
            p.clustered && r0 ? r0.start : null,
            p.clustered && r0 ? r0.duration : null,
            `jobs/${p.name}.out.${nnn}`,
            `jobs/${p.name}.err.${nnn}`,
            r0 ? r0.start : null,
            r0 ? r0.duration : null,
            p.id,
          );
        }
        db.exec('COMMIT');
      } catch (err) {
        this.rollback();
        throw err;
      }
      await yieldLoop();
    }
  }

  /**
   * clusters/JOB.dag.invocations.yml of every clustered job, from where the last pass stopped:
   * many small files share a transaction (up to chunkBytes read per transaction). A catch-up
   * of more than BULK_BYTES (a first pass over a big run) runs with synchronous=OFF and rarer
   * WAL checkpoints, then back to NORMAL with a checkpoint: a crash of the machine meanwhile may
   * lose the database, which is rebuilt from the files (a crash of the process loses nothing).
   */
  private async ingestClusterRecords(stats: IngestStats): Promise<void> {
    const jobs = this.st.clusterJobs.all() as ClusterJobRow[];
    const todo: { job: ClusterJobRow; rel: string; path: string; size: number; mtime: number }[] = [];
    let backlog = 0;
    for (const job of jobs) {
      const rel = `${job.dag_file ?? `clusters/${job.exec_job_id}.dag`}.invocations.yml`;
      const path = join(this.submitDir, rel);
      let st: import('node:fs').Stats;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      const off = this.offsetOf(rel);
      if (off === st.size) continue;
      backlog += Math.max(0, st.size - off);
      todo.push({ job, rel, path, size: st.size, mtime: st.mtimeMs / 1000 });
    }
    if (todo.length === 0) return;
    const db = this.db;
    const bulk = backlog > BULK_BYTES;
    // The covering index of the task statistics is built after the bulk of a first catch-up
    // (one sort instead of a million B-tree insertions); no tool needs it while it is missing.
    const deferIndex =
      bulk && (db.prepare('SELECT invocation_id FROM invocation LIMIT 1').get() as unknown) === undefined;
    if (bulk) {
      db.pragma('synchronous = OFF');
      db.pragma('wal_autocheckpoint = 16384');
      if (deferIndex) db.exec('DROP INDEX IF EXISTS invocation_task');
    }
    let open = false;
    let txBytes = 0;
    try {
      for (const f of todo) {
        const taskOf = this.taskResolver(f.job);
        let want = this.chunk;
        for (;;) {
          if (!open) {
            db.exec('BEGIN IMMEDIATE');
            open = true;
          }
          const r = this.ingestClusterChunk(f.job, f.rel, f.path, f.size, f.mtime, want, taskOf, stats);
          txBytes += r.bytes;
          // a record longer than the chunk: read more at once
          want = r.bytes === 0 && r.more ? want * 2 : this.chunk;
          if (txBytes >= this.chunk) {
            db.exec('COMMIT');
            open = false;
            txBytes = 0;
            await yieldLoop();
          }
          if (!r.more) break;
        }
      }
      if (open) db.exec('COMMIT');
      open = false;
    } catch (err) {
      this.rollback();
      throw err;
    } finally {
      if (bulk) {
        if (deferIndex) db.exec(INVOCATION_TASK_INDEX);
        db.pragma('synchronous = NORMAL');
        db.pragma('wal_autocheckpoint = 1000');
        db.pragma('wal_checkpoint(PASSIVE)');
      }
    }
  }

  /** derivation of a cluster task record (the `#@ N` number, or a task name) -> [task_id, N] */
  private taskResolver(job: ClusterJobRow): (derivation: string | null) => [number | null, number] {
    let byName: Map<string, [number, number]> | undefined;
    return (derivation) => {
      if (derivation === null || job.first_task_id === null) return [null, 0];
      const n = Number(derivation);
      if (Number.isInteger(n) && n >= 1 && n <= job.task_count && /^\d+$/.test(derivation)) {
        return [job.first_task_id + n - 1, n];
      }
      if (!byName) {
        byName = new Map();
        const rows = this.st.tasksOf.all(job.first_task_id, job.first_task_id + job.task_count - 1) as {
          task_id: number;
          task_index: number;
          name: string;
          abs_task_id: string;
        }[];
        for (const t of rows) {
          byName.set(t.name, [t.task_id, t.task_index]);
          if (!byName.has(t.abs_task_id)) byName.set(t.abs_task_id, [t.task_id, t.task_index]);
        }
      }
      return byName.get(derivation) ?? [null, 0];
    };
  }

  /** Reads one chunk of a cluster's record file inside the open transaction. */
  private ingestClusterChunk(
    job: ClusterJobRow,
    rel: string,
    path: string,
    size: number,
    mtime: number,
    want: number,
    taskOf: (derivation: string | null) => [number | null, number],
    stats: IngestStats,
  ): { bytes: number; more: boolean } {
    const off = this.offsetOf(rel);
    if (off > size) {
      throw new MonitorError(
        `${path}: the file is shorter (${size} bytes) than what was read before (${off}); delete ${DB_NAME(this.submitDir)} to rebuild`,
      );
    }
    if (off === size) return { bytes: 0, more: false }; // another ingester read it meanwhile
    const buf = readRange(path, off, want);
    const atEnd = off + buf.length >= size && buf.length < want;
    const instances = this.st.instancesOf.all(job.job_id) as InstanceRow[];
    const latest = instances[instances.length - 1];
    const writerDone =
      latest === undefined
        ? Date.now() / 1000 - mtime > this.quiet
        : latest.final !== null ||
          latest.state === 'JOB_TERMINATED' ||
          latest.state === 'JOB_SUCCESS' ||
          latest.state === 'JOB_FAILURE' ||
          Date.now() / 1000 - mtime > this.quiet;
    // Cut at the last record boundary in the bytes (never inside a UTF-8 sequence).
    let end = buf.length;
    if (!(atEnd && writerDone)) {
      const b = buf.lastIndexOf('\n- ');
      end = b >= 0 ? b + 1 : 0;
    }
    const text = buf.toString('utf8', 0, end);
    const ascii = text.length === end;
    let byteAt = 0;
    let charAt = 0;
    const bytesTo = (c: number): number => {
      if (ascii) return c;
      byteAt += Buffer.byteLength(text.slice(charAt, c));
      charAt = c;
      return byteAt;
    };
    let lastInstance = -1;
    const { consumed, bad } = eachInvocation(
      text,
      atEnd && writerDone,
      (lite, recordText) => {
        const inst = this.instanceFor(job.job_id, instances, lite.start);
        const [taskId, index] = taskOf(lite.derivation);
        // a record of no known task keeps its command: read it again in full
        const r =
          taskId === null && lite.raw === 0 ? (parseInvocationRecord(recordText, lite.offset) ?? lite) : lite;
        const site = inst.site ?? job.site;
        const host = this.insertRecord(
          r,
          inst.job_instance_id,
          index,
          taskId,
          site,
          rel,
          off + bytesTo(r.offset),
        );
        if (inst.job_instance_id !== lastInstance) {
          lastInstance = inst.job_instance_id;
          this.st.instanceHost.run(host, r.cwd, inst.job_instance_id);
        }
        stats.records++;
      },
      true,
    ); // task records: a successful one's command is the task's (lite)
    stats.badRecords += bad;
    const consumedBytes = bytesTo(consumed);
    this.st.setOffset.run(rel, off + consumedBytes, 0);
    stats.bytes += consumedBytes;
    return { bytes: consumedBytes, more: !atEnd };
  }

  /**
   * The attempt a cluster task record belongs to: the one whose runner (its own record in
   * invocations/) was running when the task started, else the last one submitted before the
   * task started (jobstate.log times are whole seconds), else the latest.
   */
  private instanceFor(jobId: number, instances: InstanceRow[], start: number): InstanceRow {
    let pick: InstanceRow | undefined;
    for (const i of instances) {
      if (i.cluster_start !== null && i.cluster_duration !== null) {
        if (start >= i.cluster_start - 0.001 && start <= i.cluster_start + i.cluster_duration + 0.001)
          return i;
      }
    }
    for (const i of instances) {
      if (i.submit_time !== null && i.submit_time <= start + 1e-6) pick = i;
    }
    pick ??= instances[instances.length - 1];
    if (pick) return pick;
    const id = (this.st.instance.get(jobId, 1, jobId) as { job_instance_id: number }).job_instance_id;
    const row: InstanceRow = {
      job_instance_id: id,
      job_submit_seq: 1,
      submit_time: null,
      cluster_start: null,
      cluster_duration: null,
      site: null,
      state: null,
      final: null,
    };
    instances.push(row);
    return row;
  }
}

function DB_NAME(submitDir: string): string {
  return dbPath(submitDir);
}

/** One ingest pass over a submit dir (opens and closes the database). */
export async function ingest(submitDir: string, options: IngesterOptions = {}): Promise<IngestStats> {
  const ing = new Ingester(submitDir, options);
  try {
    return await ing.ingest();
  } finally {
    ing.close();
  }
}
