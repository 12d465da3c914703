import type { ClusterOptions } from './cluster-options.js';
import type { Envelope, MasterCommunicator, TransportEvent } from './communicator.js';
import type { Dag } from './dag.js';
import { EXIT } from './exit-codes.js';
import type { Logger } from './log.js';
import type { TaskCommand, TaskResult, WorkerConfig, WorkerMessage } from './protocol.js';
import type { RunOutputs } from './run-outputs.js';
import { type Completion, Scheduler, type SchedulerOptions } from './scheduler.js';

const WAKE = Symbol('wake');

/** How long workers have to report their tasks ended after a stop request. */
const STOP_TIMEOUT_MS = 60_000;

/** Tasks per 'tasks' message. */
const MAX_TASKS_PER_MESSAGE = 512;

export interface MasterParams {
  dag: Dag;
  done: Uint8Array;
  options: ClusterOptions;
  comm: MasterCommunicator;
  outputs: RunOutputs;
  log: Logger;
  workerConfig: WorkerConfig;
  /** Workers to wait for before the feasibility check and the first dispatch. */
  expectedWorkers: number;
  /** Epoch ms the run started (the wall-time deadline counts from it); default: now. */
  startedAt?: number;
}

export interface MasterOutcome {
  exitCode: number;
  scheduler: Scheduler;
}

/**
 * The master's event loop: feeds the scheduler with what the communicator delivers, writes
 * outputs and the rescue log (outputs first, so a DONE record always has its output), and
 * sends what the scheduler dispatches. It never blocks on a worker.
 */
export class Master {
  readonly scheduler: Scheduler;
  private readonly p: MasterParams;
  private interrupt: { signal?: NodeJS.Signals; wallTime?: boolean; reason: string } | undefined;
  private fatal: string | undefined;
  private stopSentAt = 0;
  private waitingForWorkers = true;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastProgress = 0;
  private wake: (() => void) | undefined;
  /** A wake-up asked for while the loop was not waiting (e.g. stop() before run()): taken next time. */
  private wakePending = false;
  private readonly pidToRank = new Map<number, number>();
  /** Epoch ms of the first dispatch and of the last result (the makespan). */
  firstDispatchAt = 0;
  lastResultAt = 0;
  /** Set once run() has returned: later worker exits are expected. */
  ended = false;

  constructor(p: MasterParams) {
    this.p = p;
    const o = p.options;
    const deadline =
      o.maxWallTime !== undefined ? (p.startedAt ?? Date.now()) + o.maxWallTime * 60_000 : undefined;
    this.scheduler = new Scheduler(p.dag, p.done, {
      maxFailures: o.maxFailures,
      hostCpus: o.hostCpus,
      hostMemory: o.hostMemory,
      hostGpus: o.hostGpus,
      deadline,
      onQueued: (id) => p.outputs.jobstate?.submit(p.dag.names[id], id),
      ...this.placementHooks(),
      onFragmented: (id) =>
        p.log.warn(
          `CPU fragmentation detected when scheduling task ${p.dag.names[id]}: not setting affinity`,
        ),
    });
    if (deadline !== undefined) {
      this.deadlineTimer = setTimeout(
        () => this.stop({ wallTime: true, reason: 'Workflow wall time exceeded' }),
        Math.max(0, deadline - Date.now()),
      );
      this.deadlineTimer.unref();
    }
  }

  /**
   * PMC's trace lines for each placement (`Scheduling task NAME`, `Matched task NAME to slot R on
   * host H`) and a resource log line after each one; only what is asked for is hooked.
   */
  private placementHooks(): Pick<SchedulerOptions, 'onScheduling' | 'onAssigned'> {
    const { log, dag, outputs } = this.p;
    const trace = log.enabled('trace');
    const resource = outputs.resource;
    const hooks: Pick<SchedulerOptions, 'onScheduling' | 'onAssigned'> = {};
    if (trace) hooks.onScheduling = (id) => log.trace(`Scheduling task ${dag.names[id]}`);
    if (trace || resource) {
      hooks.onAssigned = (id, w) => {
        if (trace) log.trace(`Matched task ${dag.names[id]} to slot ${w.rank} on host ${w.host.name}`);
        resource?.host(w.host);
      };
    }
    return hooks;
  }

  /** Stop dispatching; end running tasks (TERM, KILL on a second request); flush; exit non-zero. */
  stop(why: { signal?: NodeJS.Signals; wallTime?: boolean; reason: string }): void {
    const { log, comm } = this.p;
    if (this.interrupt) {
      log.warn(`${why.reason} again: killing running tasks`);
      comm.broadcast({ type: 'stop', signal: 'KILL' });
      return;
    }
    this.interrupt = why;
    log.warn(`${why.reason}: stopping dispatch, ending running tasks`);
    this.scheduler.stop();
    comm.broadcast({ type: 'stop', signal: 'TERM' });
    this.stopSentAt = Date.now();
    this.nudge();
    // Wake the loop to give up if workers never answer.
    setTimeout(() => this.nudge(), STOP_TIMEOUT_MS + 100).unref();
  }

  /** Resolves with WAKE when stop() is called while the loop waits for messages. */
  private nudge(): void {
    if (this.wake) this.wake();
    else this.wakePending = true;
  }

  private wakeUp(): Promise<typeof WAKE> {
    if (this.wakePending) {
      this.wakePending = false;
      return Promise.resolve(WAKE);
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve(WAKE);
      };
    });
  }

  /** False when the DAG is empty or every task is already done: no worker is needed. */
  get hasWork(): boolean {
    return this.p.dag.size > 0 && !this.scheduler.succeeded;
  }

  /** Seconds from the first task sent to the last result received. */
  get makespan(): number {
    return this.lastResultAt > this.firstDispatchAt ? (this.lastResultAt - this.firstDispatchAt) / 1000 : 0;
  }

  async run(): Promise<MasterOutcome> {
    const { comm, log, dag, outputs } = this.p;
    const s = this.scheduler;
    if (!this.hasWork) {
      log.info(dag.size === 0 ? 'The DAG has no tasks' : 'Every task is already done (rescue log)');
    } else {
      let pending: Promise<Array<Envelope<WorkerMessage> | TransportEvent> | null> | undefined;
      while (true) {
        pending ??= comm.receive();
        const batch = await Promise.race([pending, this.wakeUp()]);
        if (batch !== WAKE) {
          pending = undefined;
          if (batch === null) {
            this.fatal ??= 'communicator closed';
            break;
          }
          this.handleBatch(batch);
          if (this.fatal) break;
          outputs.flush();
        }
        if (this.waitingForWorkers) {
          // Dispatch once every expected worker is ready, so that the first tasks spread over all.
          // A stop before then ends the run at once: nothing was dispatched, nothing runs.
          if (s.readyWorkers() < this.p.expectedWorkers && !this.interrupt) continue;
          this.waitingForWorkers = false;
          // PMC logs each host's resources once every worker has registered.
          for (const h of s.hosts.values()) outputs.resource?.host(h);
          const infeasible = s.findInfeasible();
          if (infeasible !== undefined) {
            this.fatal = `FATAL ERROR: No host is capable of running task ${infeasible}`;
            break;
          }
        }
        this.dispatch();
        outputs.flush();
        this.progress();
        if (!this.interrupt && s.blockedByDeadline()) {
          this.stop({ wallTime: true, reason: 'No ready task can finish before the wall time ends' });
        }
        if (s.finished) break;
        if (this.interrupt && this.stopSentAt && Date.now() - this.stopSentAt > STOP_TIMEOUT_MS) {
          this.fatal = 'workers did not end their tasks within 60 s of the stop request';
          break;
        }
        if (!this.waitingForWorkers && s.liveWorkers() === 0 && !s.finished) {
          this.fatal = 'every worker was lost';
          break;
        }
      }
    }
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.ended = true;
    comm.broadcast({ type: 'shutdown' });
    return { exitCode: this.finish(), scheduler: s };
  }

  private handleBatch(batch: Array<Envelope<WorkerMessage> | TransportEvent>): void {
    const { comm, log, outputs } = this.p;
    const s = this.scheduler;
    for (const item of batch) {
      if ('kind' in item) {
        if (item.kind === 'joined') {
          const hostRank = s.addWorker(item.rank, item.info);
          this.pidToRank.set(item.info.pid, item.rank);
          log.info(
            `Worker ${item.rank} joined from ${item.info.hostname} (pid ${item.info.pid}, ${item.info.cpus} cpus, ${item.info.memory} MB, host rank ${hostRank})`,
          );
          comm.send(item.rank, { type: 'welcome', rank: item.rank, hostRank, config: this.p.workerConfig });
          outputs.workerJoined(item.rank);
          // A worker joining a running job (over tcp) changes its host's free slots.
          if (!this.waitingForWorkers) outputs.resource?.host(s.workers.get(item.rank)!.host);
        } else {
          const requeued = s.workerLost(item.rank);
          log.warn(`Worker ${item.rank} lost (${item.reason}); ${requeued.length} task(s) requeued`);
        }
        continue;
      }
      const m = item.message;
      switch (m.type) {
        case 'ready':
          s.setReady(item.source);
          break;
        case 'results':
          this.handleResults(item.source, m.results, m.released, m.rejected);
          break;
        case 'fatal':
          this.fatal = `Worker ${item.source}: ${m.message}`;
          break;
        case 'register':
        case 'heartbeat':
          break;
      }
    }
  }

  private handleResults(
    rank: number,
    results: TaskResult[],
    released: { cpus: number; memory: number },
    rejected: number[],
  ): void {
    const { dag, outputs, log } = this.p;
    const s = this.scheduler;
    const w = s.workers.get(rank);
    if (!w?.alive) return; // a late report from a worker declared lost: its tasks were requeued
    const completions: Completion[] = new Array(results.length);
    let ended = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const ok = r.raw === 0 && r.error === undefined;
      completions[i] = { id: r.id, ok, duration: r.duration };
      if (!w.outstanding.has(r.id)) continue;
      ended++;
      outputs.taskFinished(dag, r, rank, ok, w.host.name);
      if (!ok) {
        const tries = Math.max(1, dag.tries[r.id]);
        const why = r.error ?? `exitcode ${r.raw}`;
        log.warn(`Task ${dag.names[r.id]} failed with ${why} (attempt ${r.attempt} of ${tries})`);
      } else if (log.enabled('debug')) {
        log.debug(`Task ${dag.names[r.id]} finished on worker ${rank} in ${r.duration.toFixed(3)} s`);
      }
    }
    const outcome = s.complete(rank, completions, released, rejected);
    if (results.length > 0) this.lastResultAt = Date.now();
    for (const id of outcome.done) outputs.rescue.markDone(id);
    if (outcome.failed.length > 0 && s.releaseStopped && this.p.options.maxFailures > 0) {
      log.error('Max failures reached: DAG prematurely aborted');
    }
    // One line per task that ended, as PMC writes one after each release.
    if (outputs.resource) for (let i = 0; i < ended; i++) outputs.resource.host(w.host);
  }

  private dispatch(): void {
    const { dag, comm, outputs } = this.p;
    const s = this.scheduler;
    const dispatched = s.dispatch();
    if (dispatched.length > 0 && this.firstDispatchAt === 0) this.firstDispatchAt = Date.now();
    for (const d of dispatched) {
      let grant = d.grant;
      const perMessage = this.p.options.batchSize ?? MAX_TASKS_PER_MESSAGE;
      for (let start = 0; start < d.tasks.length; start += perMessage) {
        const ids = d.tasks.slice(start, start + perMessage);
        const tasks: TaskCommand[] = ids.map((id) => this.command(id));
        comm.send(d.rank, { type: 'tasks', grant, tasks });
        grant = { cpus: 0, memory: 0 };
        if (outputs.jobstate) for (const id of ids) outputs.jobstate.execute(dag.names[id], id);
      }
    }
  }

  private command(id: number): TaskCommand {
    const { dag } = this.p;
    const t: TaskCommand = {
      id,
      attempt: this.scheduler.failuresOf(id) + 1,
      name: dag.names[id],
      argv: dag.argv[id],
      cpus: dag.cpus[id],
      memory: dag.memory[id],
    };
    const latest = this.scheduler.latestStart(id);
    if (latest !== undefined) t.latestStart = latest;
    const cores = this.scheduler.bindingOf(id);
    if (cores !== undefined) t.affinity = cores;
    const gpus = this.scheduler.gpusOf(id);
    if (gpus !== undefined) t.gpus = gpus;
    const pid = dag.pegasusId(id);
    if (pid !== undefined) t.pegasusId = pid;
    const pf = dag.pipeForwards(id);
    if (pf.length > 0) t.pipeForwards = pf.map(([a, b]) => [a, b]);
    const ff = dag.fileForwards(id);
    if (ff.length > 0) t.fileForwards = ff.map(([a, b]) => [a, b]);
    return t;
  }

  private progress(): void {
    const { log } = this.p;
    if (!log.enabled('info')) return;
    const now = Date.now();
    if (now - this.lastProgress < 10_000) return;
    if (this.lastProgress === 0) {
      this.lastProgress = now;
      return;
    }
    this.lastProgress = now;
    const s = this.scheduler;
    log.info(
      `Progress: ${s.doneCount}/${s.dag.size} done, ${s.outstanding} running or queued at workers, ${s.readyCount} ready, ${s.permanentFailures} failed`,
    );
  }

  private finish(): number {
    const { log } = this.p;
    const s = this.scheduler;
    if (this.fatal) {
      log.fatal(this.fatal);
      return EXIT.failed;
    }
    if (this.interrupt) {
      log.error('Aborting workflow');
      if (this.interrupt.signal) return 128 + signalNumber(this.interrupt.signal);
      return EXIT.wallTime;
    }
    if (s.succeeded) {
      log.info('Workflow succeeded');
      return EXIT.ok;
    }
    log.error(`Workflow failed: ${s.dag.size - s.doneCount} task(s) not done, ${s.permanentFailures} failed`);
    return EXIT.failed;
  }

  /** The rank of the local worker process with this pid, if it joined. */
  rankOfPid(pid: number): number | undefined {
    return this.pidToRank.get(pid);
  }

  /** Why the run ended, for the summary record. */
  get ok(): boolean {
    return !this.fatal && !this.interrupt && this.scheduler.succeeded;
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  const n = (
    { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15, SIGUSR1: 10, SIGUSR2: 12 } as Record<string, number>
  )[sig];
  return n ?? 1;
}
