import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { JOBSTATE_LOG, loadSiteCatalog, Properties, SUBMIT_FILES } from '@pegasus-ts/model';
import {
  type Attempt,
  type AttemptResult,
  attemptPaths,
  type Backend,
  type BackendEvents,
} from './backend.js';
import { ClusterBackend } from './backends/cluster-backend.js';
import { InternalBackend } from './backends/internal-backend.js';
import { LocalBackend } from './backends/local-backend.js';
import type { SlurmBackend, SlurmBackendOptions } from './backends/slurm-backend.js';
import { EngineError } from './errors.js';
import { SlotPool } from './internal/process-backend.js';
import type { PegasusTsCommand } from './job-command.js';
import { JobState } from './job-state.js';
import { JobstateLog, readJobstate } from './jobstate-log.js';
import { loadPlan, type Plan } from './plan-file.js';
import { subWorkflowRunArgs } from './sub-workflow-job.js';
import { SubmitLock } from './submit-lock.js';
import { categoryOf, Throttles } from './throttles.js';
import { WorkflowState } from './workflow-state.js';

export interface EngineOptions {
  submitDir: string;
  /** how to start `pegasus-ts` for kickstart, transfer and mpi-cluster (absolute paths) */
  pegasusTs: PegasusTsCommand;
  /** CPU slots for jobs on this machine (default: the CPUs) */
  slots?: number;
  /** workers per clustered job run on this machine (default: all slots) */
  clusterWorkers?: number;
  /** Slurm backend settings (poll interval, client) */
  slurm?: Partial<SlurmBackendOptions>;
  /** environment of the jobs (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** engine.log lines (what the engine does) */
  log?: (line: string) => void;
  /** called about once a second and at the end */
  progress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /**
   * Feed the provenance database (`workflow.db`, @pegasus-ts/monitor) while the run goes on, so
   * status/analyzer/statistics answer at once (default true; the tools catch up on their own
   * otherwise).
   */
  monitor?: boolean;
}

/** Where the run stands: jobs per state. */
export interface Progress {
  total: number;
  unready: number;
  ready: number;
  queued: number;
  running: number;
  post: number;
  succeeded: number;
  failed: number;
  elapsed: number;
}

/** How a run ended: the exit code of `run --foreground` and of DAGMAN_FINISHED in jobstate.log. */
export const RunExit = {
  /** every job succeeded */
  SUCCEEDED: 0,
  /** jobs failed for good */
  FAILED: 1,
  /** stopped by remove or a signal; a later run resumes */
  STOPPED: 2,
} as const;
export type RunExit = (typeof RunExit)[keyof typeof RunExit];

const RUN_EXIT_WORDS: Record<RunExit, string> = {
  [RunExit.SUCCEEDED]: 'workflow succeeded',
  [RunExit.FAILED]: 'workflow failed',
  [RunExit.STOPPED]: 'stopped',
};

export interface RunResult {
  exitCode: RunExit;
  progress: Progress;
  /** names of the jobs that failed for good */
  failed: string[];
}

/**
 * The DAGMan role: drives every job of a planned submit dir to its end. Job states live in a
 * pure `WorkflowState`; every change goes to jobstate.log first (the journal), so a new engine
 * on the same dir (after a crash, a failure or a remove) picks up exactly where this one stopped:
 * succeeded jobs are not run again and attempts still running are adopted, not restarted.
 */
export class Engine {
  private readonly state: WorkflowState;
  private readonly backends: Backend[];
  private readonly backendOf: Backend[];
  private readonly category: (string | undefined)[];
  private readonly throttles: Throttles;
  private journal: JobstateLog | undefined;
  private lock: SubmitLock | undefined;
  private stopping = false;
  private startedAt = 0;
  private done: ((r: RunResult) => void) | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly failedJobs: string[] = [];
  private scheduling = false;

  private constructor(
    readonly plan: Plan,
    private readonly o: EngineOptions,
    slurmSites: ReadonlySet<string>,
    properties: Properties,
    slurmClass: typeof SlurmBackend | undefined,
  ) {
    const submitDir = plan.submitDir;
    const slots = new SlotPool(o.slots ?? availableParallelism());
    const events = this.events();
    const local = new LocalBackend(events, {
      submitDir,
      label: plan.label,
      pegasusTs: o.pegasusTs,
      slots,
      env: o.env,
      integrity: properties.get('pegasus.integrity.checking'),
      subWorkflowArgs: subWorkflowRunArgs(o),
    });
    const cluster = new ClusterBackend(events, {
      submitDir,
      label: plan.label,
      pegasusTs: o.pegasusTs,
      slots,
      workers: o.clusterWorkers,
      env: o.env,
    });
    const internal = new InternalBackend(events);
    let slurm: SlurmBackend | undefined;
    const slurmBackend = (): SlurmBackend => {
      if (!slurmClass) throw new Error('the Slurm backend was not loaded');
      slurm ??= new slurmClass(events, {
        submitDir,
        label: plan.label,
        wfUuid: plan.wfUuid,
        pegasusTs: o.pegasusTs,
        env: o.env,
        ...o.slurm,
      });
      return slurm;
    };
    this.backendOf = plan.jobs.map((job) => {
      if (job.kind === 'noop') return internal;
      if (job.kind === 'cluster') return job.sbatch ? slurmBackend() : cluster;
      if (job.kind === 'compute' && slurmSites.has(job.site)) return slurmBackend();
      return local;
    });
    this.backends = [local, cluster, internal];
    if (slurm) this.backends.push(slurm);
    this.category = plan.jobs.map((j) => categoryOf(j.kind));
    try {
      this.throttles = Throttles.fromProperties((k) => properties.get(k));
    } catch (e) {
      throw new EngineError(`${join(submitDir, 'pegasus.properties')}: ${(e as Error).message}`);
    }
    this.state = new WorkflowState(plan, (i) => `${this.backendOf[i].name}/${this.category[i] ?? ''}`);
  }

  /** Loads the submit dir (plan.yml, pegasus.properties, catalogs/sites.yml). */
  static async open(o: EngineOptions): Promise<Engine> {
    const plan = await loadPlan(o.submitDir);
    let properties = new Properties();
    try {
      properties = await Properties.load(join(o.submitDir, 'pegasus.properties'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !String(e).includes('ENOENT'))
        throw new EngineError(`${join(o.submitDir, 'pegasus.properties')}: ${(e as Error).message}`);
    }
    const slurmSites = new Set<string>();
    try {
      const sc = await loadSiteCatalog(join(o.submitDir, 'catalogs', 'sites.yml'), { env: false });
      for (const s of sc.sites) if (s.grids.some((g) => g.scheduler === 'slurm')) slurmSites.add(s.name);
    } catch {
      /* no site catalog: nothing runs on Slurm unless it has an sbatch script */
    }
    // The Slurm backend is loaded only when a job needs it.
    const needsSlurm = plan.jobs.some((j) => j.sbatch || (j.kind === 'compute' && slurmSites.has(j.site)));
    const slurmClass = needsSlurm ? (await import('./backends/slurm-backend.js')).SlurmBackend : undefined;
    return new Engine(plan, o, slurmSites, properties, slurmClass);
  }

  /** Runs until nothing more can happen. Takes the submit dir's lock for the whole run. */
  async run(): Promise<RunResult> {
    const dir = this.plan.submitDir;
    this.lock = SubmitLock.acquire(dir);
    try {
      mkdirSync(join(dir, SUBMIT_FILES.invocations), { recursive: true });
      mkdirSync(join(dir, 'jobs'), { recursive: true });
      const journalPath = join(dir, JOBSTATE_LOG);
      const history = readJobstate(journalPath);
      this.journal = new JobstateLog(journalPath);
      this.journal.started(process.pid);
      this.startedAt = Date.now();
      const adopt = this.restore(history);
      this.log(
        `engine ${process.pid} started on ${dir}: ${this.plan.jobs.length} jobs, ${this.state.count(JobState.SUCCESS)} done before, ${this.o.slots ?? availableParallelism()} slots` +
          (adopt.length ? `, ${adopt.length} in flight (adopting)` : '') +
          (history.crashed ? ' (the previous engine stopped without finishing: resuming)' : ''),
      );
      const finished = new Promise<RunResult>((resolve) => {
        this.done = resolve;
      });
      for (const [i, schedId] of adopt) this.backendOf[i].adopt(this.attempt(i), schedId);
      const monitor = this.o.monitor === false ? undefined : await this.startMonitor();
      if (this.o.progress) {
        this.progressTimer = setInterval(
          () => this.o.progress?.(this.progress()),
          this.o.progressIntervalMs ?? 1000,
        );
      }
      this.schedule();
      const result = await finished;
      await monitor?.stop();
      return result;
    } finally {
      if (this.progressTimer) clearInterval(this.progressTimer);
      for (const b of this.backends) b.close();
      this.journal?.close();
      this.lock.release();
    }
  }

  /** Starts following the submit dir into workflow.db; a monitor that fails only logs. */
  private async startMonitor(): Promise<{ stop(): Promise<void> } | undefined> {
    try {
      const { Ingester } = await import('@pegasus-ts/monitor');
      const ingester = new Ingester(this.plan.submitDir);
      const watcher = ingester.watch({
        intervalMs: 1000,
        onError: (e) => this.log(`monitor: ${(e as Error).message ?? e}`),
      });
      return {
        stop: async () => {
          try {
            await watcher.stop();
          } catch (e) {
            this.log(`monitor: ${(e as Error).message}`);
          } finally {
            ingester.close();
          }
        },
      };
    } catch (e) {
      this.log(`monitor: not feeding workflow.db: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * Stops the run (remove, SIGTERM): nothing new starts, running attempts are cancelled, and the
   * run ends with exit code 2 once they are over. A later `run` resumes.
   */
  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log(`stopping: ${reason}; cancelling ${this.state.active} running job(s)`);
    for (let i = 0; i < this.state.size; i++) {
      const s = this.state.state[i];
      if (s === JobState.QUEUED || s === JobState.RUNNING) this.backendOf[i].cancel(i);
    }
    this.maybeFinish();
  }

  progress(): Progress {
    const s = this.state;
    return {
      total: s.size,
      unready: s.count(JobState.UNREADY),
      ready: s.count(JobState.READY),
      queued: s.count(JobState.QUEUED),
      running: s.count(JobState.RUNNING),
      post: s.count(JobState.POST),
      succeeded: s.count(JobState.SUCCESS),
      failed: s.count(JobState.FAILURE),
      elapsed: this.startedAt ? (Date.now() - this.startedAt) / 1000 : 0,
    };
  }

  /** Rebuilds the state from the journal; returns the attempts to adopt (job, scheduler id). */
  private restore(history: ReturnType<typeof readJobstate>): [number, string | undefined][] {
    const adopt: [number, string | undefined][] = [];
    const s = this.state;
    for (const [name, h] of history.jobs) {
      const i = this.plan.index.get(name);
      if (i === undefined) continue;
      s.attempts[i] = h.seq;
      s.failures[i] = h.failures;
      const a = h.attempt;
      if (h.succeeded) {
        s.restoreSuccess(i);
      } else if (a && !a.ended) {
        s.restoreActive(i, a.schedId ? JobState.RUNNING : JobState.QUEUED);
        this.throttles.take(this.category[i]);
        adopt.push([i, a.schedId]);
      } else if (h.failures > this.plan.jobs[i].retries) {
        s.restoreActive(i, JobState.FAILURE);
        this.failedJobs.push(name);
      }
    }
    s.release();
    return adopt;
  }

  private attempt(i: number): Attempt {
    const job = this.plan.jobs[i];
    const seq = this.state.attempts[i];
    return { index: i, job, seq, paths: attemptPaths(this.plan.submitDir, job.name, seq) };
  }

  /** Starts every ready job that the throttles and backends allow, highest priority first. */
  private schedule(): void {
    if (this.scheduling) return;
    this.scheduling = true;
    try {
      while (!this.stopping) {
        const i = this.state.pick(
          (j) => this.throttles.allows(this.category[j]) && this.backendOf[j].hasRoom(this.plan.jobs[j]),
        );
        if (i === undefined) break;
        this.throttles.take(this.category[i]);
        const a = this.attempt(i);
        this.journal?.job(a.job.name, 'SUBMIT', '-', a.job.site, a.seq);
        this.backendOf[i].start(a);
      }
    } finally {
      this.scheduling = false;
    }
    this.maybeFinish();
  }

  private events(): BackendEvents {
    return {
      submitted: (i, id) => {
        const j = this.plan.jobs[i];
        this.journal?.job(j.name, 'GRID_SUBMIT', id, j.site, this.state.attempts[i]);
      },
      executing: (i, id) => {
        const j = this.plan.jobs[i];
        this.state.advance(i, JobState.RUNNING);
        this.journal?.job(j.name, 'EXECUTE', id, j.site, this.state.attempts[i]);
      },
      ended: (i, r) => this.ended(i, r),
      log: (line) => this.log(line),
    };
  }

  private ended(i: number, r: AttemptResult): void {
    const job = this.plan.jobs[i];
    const seq = this.state.attempts[i];
    const j = this.journal;
    const outcome = this.stopping && r.outcome !== 'success' ? 'lost' : r.outcome;
    const duration = r.duration.toFixed(3);
    j?.job(job.name, 'JOB_TERMINATED', '-', job.site, seq);
    if (outcome === 'evicted') {
      j?.job(job.name, 'JOB_EVICTED', r.exitCode, job.site, seq, duration);
      this.log(
        `${job.name}: attempt ${seq} stopped for wall time (${r.reason ?? 'time limit'}); resubmitting`,
      );
    } else if (outcome === 'lost') {
      j?.job(job.name, 'JOB_ABORTED', r.exitCode, job.site, seq, duration);
      this.log(
        `${job.name}: attempt ${seq} ${this.stopping ? 'cancelled' : `lost: ${r.reason ?? 'no verdict'}`}`,
      );
    } else {
      const ok = outcome === 'success';
      this.state.advance(i, JobState.POST);
      j?.job(job.name, ok ? 'JOB_SUCCESS' : 'JOB_FAILURE', r.exitCode, job.site, seq, duration);
      j?.job(job.name, 'POST_SCRIPT_STARTED', '-', job.site, seq);
      j?.job(job.name, 'POST_SCRIPT_TERMINATED', 0, job.site, seq);
      j?.job(
        job.name,
        ok ? 'POST_SCRIPT_SUCCESS' : 'POST_SCRIPT_FAILURE',
        ok ? 0 : r.exitCode,
        job.site,
        seq,
      );
    }
    this.throttles.release(this.category[i]);
    const after = this.stopping && outcome !== 'success' ? 'stopped' : this.state.finish(i, outcome);
    if (after === 'stopped') this.state.advance(i, JobState.READY);
    if (after === 'failed') {
      this.failedJobs.push(job.name);
      this.log(
        `${job.name}: failed for good after ${seq} attempt(s): ${r.reason ?? `exit code ${r.exitCode}`}`,
      );
    } else if (after === 'retry' && outcome === 'failure') {
      this.log(
        `${job.name}: attempt ${seq} failed (${r.reason ?? `exit code ${r.exitCode}`}); retry ${this.state.failures[i]} of ${job.retries}`,
      );
    }
    this.schedule();
  }

  private maybeFinish(): void {
    if (!this.done || this.state.active > 0) return;
    if (!this.stopping && !this.state.finished) return;
    const exitCode: RunExit = this.stopping
      ? RunExit.STOPPED
      : this.state.succeeded
        ? RunExit.SUCCEEDED
        : RunExit.FAILED;
    this.journal?.finished(exitCode);
    const p = this.progress();
    this.o.progress?.(p);
    this.log(
      `engine finished: ${RUN_EXIT_WORDS[exitCode]} ` +
        `(${p.succeeded}/${p.total} jobs done, ${p.failed} failed, ${p.unready} not run) in ${p.elapsed.toFixed(1)} s`,
    );
    const done = this.done;
    this.done = undefined;
    done({ exitCode, progress: p, failed: [...this.failedJobs] });
  }

  private log(line: string): void {
    this.o.log?.(line);
  }
}
