import { closeSync, promises as fsp } from 'node:fs';
import type { Launcher, LaunchHandle, LaunchResult, LaunchSpec } from '@pegasus-ts/kickstart';
import { createLauncher, LaunchCancelledError } from '@pegasus-ts/kickstart';
import { ChainDepth } from './chain-depth.js';
import { formatClusterTask } from './cluster-records.js';
import type { WorkerCommunicator } from './communicator.js';
import { liteTaskArgs, runLiteTask } from './lite-task.js';
import type { Logger } from './log.js';
import type { MasterMessage, TaskCommand, TaskResult, WorkerConfig } from './protocol.js';
import { openPerTaskStdio } from './task-output.js';
import { taskRecordYaml } from './task-record.js';
import { WorkerQueue } from './worker-queue.js';

/** Largest -F file forwarded (PMC's limit). */
const MAX_FILE_FORWARD = 1024 * 1024;
/** Longest a result waits for companions while the worker has queued work (ms). */
const RESULT_DELAY_MS = 10;
/**
 * Longest the launcher holds back the result of a task whose chained successor it started
 * (ms): a burst of short tasks then costs this process one wake-up, not one per task.
 */
const LAUNCH_RESULT_HOLD_MS = 8;
/** Results that go out at once. */
const RESULT_BATCH = 256;
/** Seconds between TERM and KILL when the master stops the run. */
const STOP_GRACE_SECONDS = 5;
/** Host scripts must finish within this many seconds (PMC's limit). */
const HOST_SCRIPT_TIMEOUT = 60;
/** Seconds what a host script left running has between SIGTERM and SIGKILL at shutdown (PMC's). */
const HOST_SCRIPT_GRACE = 5;
/** Bytes of a host script's stdout (and of its stderr) forwarded: the tail. */
const HOST_SCRIPT_CAPTURE = 1024 * 1024;

interface Running {
  task: TaskCommand;
  handle: LaunchHandle | undefined;
  /** The task the launcher starts the moment this one ends (already submitted; it may have its own). */
  successor?: Running;
  /**
   * Its resources are counted in the queue: started without a predecessor, or the lane passed
   * to it when its predecessor ended. A chained task is not counted before.
   */
  counted: boolean;
  /** Its launch ended (result or cancellation seen). */
  ended: boolean;
}

/**
 * A worker: receives batches of tasks, runs as many at once as what it holds allows, and
 * reports results in batches (one message per event-loop turn at most). Tasks run through
 * kickstart's launcher; each result carries the task's invocation record and, unless per-task
 * stdio is on, its captured stdout and stderr for the master to merge.
 */
export class Worker {
  private readonly queue = new WorkerQueue();
  private readonly running = new Map<number, Running>();
  private readonly chainDepth = new ChainDepth(LAUNCH_RESULT_HOLD_MS);
  private pending: TaskResult[] = [];
  private rejected: number[] = [];
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private launcher: Launcher | undefined;
  private rank = -1;
  private hostRank = -1;
  private config: WorkerConfig | undefined;
  private hostname: string;
  private stopping = false;
  /** The host script's process group (what it left running is ended at shutdown). */
  private hostScriptGroup = 0;

  constructor(
    private readonly comm: WorkerCommunicator,
    private readonly log: Logger,
    hostname: string,
  ) {
    this.hostname = hostname;
  }

  /** Runs until the master says shutdown or is gone. Returns the process exit code. */
  async run(): Promise<number> {
    try {
      while (true) {
        const batch = await this.comm.receive();
        if (batch === null) {
          this.log.warn(`worker ${this.rank}: master gone; killing ${this.running.size} running task(s)`);
          this.killAll('SIGKILL');
          return 1;
        }
        for (const m of batch) {
          if (m.type === 'shutdown') {
            this.killAll('SIGKILL');
            return 0;
          }
          await this.handle(m);
        }
      }
    } finally {
      await this.endHostScriptGroup();
      await this.launcher?.close();
      await this.comm.close();
    }
  }

  private async handle(m: MasterMessage): Promise<void> {
    switch (m.type) {
      case 'welcome': {
        this.rank = m.rank;
        this.hostRank = m.hostRank;
        this.config = m.config;
        if (!m.config.noop) {
          this.launcher = createLauncher({
            baseEnv: { ...(process.env as Record<string, string>), ...m.config.env },
            resultHoldMs: LAUNCH_RESULT_HOLD_MS,
          });
        }
        if (m.config.hostScript && m.hostRank === 0) {
          const error = await this.runHostScript(m.config.hostScript);
          if (error) {
            this.comm.send({ type: 'fatal', message: error });
            return;
          }
        }
        this.comm.send({ type: 'ready' });
        return;
      }
      case 'tasks': {
        if (this.stopping) {
          for (const t of m.tasks) this.rejected.push(t.id);
          this.queue.accept(m.grant, []);
        } else {
          const rejected = this.queue.accept(m.grant, m.tasks);
          for (const id of rejected) this.rejected.push(id);
          this.pump();
        }
        this.scheduleFlush();
        return;
      }
      case 'stop': {
        this.stopping = true;
        for (const t of this.queue.drainWaiting()) this.rejected.push(t.id);
        if (m.signal === 'KILL') this.killAll('SIGKILL');
        else {
          this.killAll('SIGTERM');
          setTimeout(() => this.killAll('SIGKILL'), STOP_GRACE_SECONDS * 1000).unref();
        }
        this.scheduleFlush();
        return;
      }
      case 'heartbeat':
      case 'shutdown':
        return;
    }
  }

  private pump(): void {
    for (let t = this.queue.next(); t !== undefined; t = this.queue.next()) {
      if (t.latestStart !== undefined && Date.now() > t.latestStart) {
        // It could no longer finish before the wall time ends: back to the master, unstarted.
        this.queue.finish(t);
        this.rejected.push(t.id);
        this.scheduleFlush();
        continue;
      }
      this.start(t);
    }
  }

  /**
   * Starts a task now, or (with `after`) has the launcher start it the moment `after` ends,
   * with no round trip through this process: that is what keeps short tasks back to back.
   */
  private start(t: TaskCommand, after?: Running): Running {
    const cfg = this.config!;
    const entry: Running = { task: t, handle: undefined, counted: after === undefined, ended: false };
    this.running.set(t.id, entry);
    if (cfg.noop) {
      const now = Date.now();
      this.slotFreed(entry);
      this.finished(t, {
        id: t.id,
        attempt: t.attempt,
        raw: 0,
        exitCode: 0,
        signal: null,
        start: now,
        duration: 0,
      });
      return entry;
    }
    const spec = this.spec(t, cfg);
    const lite = liteTaskArgs(t.argv);
    if (lite) {
      // staged in and out around the launch: never chained behind or ahead of another task
      this.startLite(t, entry, lite.spec, { ...spec, argv: lite.argv });
      return entry;
    }
    const handle = this.launcher!.launch(spec, after?.handle ? { after: after.handle } : undefined);
    entry.handle = handle;
    handle.result.then(
      (res) => {
        this.slotFreed(entry);
        return this.afterLaunch(t, spec, res);
      },
      (err: Error) => {
        if (err instanceof LaunchCancelledError) {
          // Never started (the run is stopping): back to the master, not a failure.
          entry.ended = true;
          this.running.delete(t.id);
          if (entry.counted) this.queue.finish(t);
          this.rejected.push(t.id);
          this.scheduleFlush();
          return;
        }
        this.slotFreed(entry);
        this.finished(t, {
          id: t.id,
          attempt: t.attempt,
          raw: -1,
          exitCode: null,
          signal: null,
          start: Date.now(),
          duration: 0,
          error: `launcher failed: ${err.message}`,
        });
      },
    );
    if (!after) this.chain(entry);
    return entry;
  }

  /** A task in a scratch dir of its own (lite-task.ts): stage in, launch there, stage out, clean up. */
  private startLite(t: TaskCommand, entry: Running, specFile: string, spec: LaunchSpec): void {
    runLiteTask(specFile, spec, (inDir) => {
      const handle = this.launcher!.launch(inDir);
      entry.handle = handle;
      return handle;
    }).then(
      async ({ result, log }) => {
        this.slotFreed(entry);
        for (const line of log) this.log.error(`Task ${t.name}: ${line}`);
        await this.afterLaunch(t, spec, result);
      },
      (err: Error) => {
        entry.ended = true;
        this.running.delete(t.id);
        if (entry.counted) this.queue.finish(t);
        if (err instanceof LaunchCancelledError) this.rejected.push(t.id);
        else {
          this.finished(t, {
            id: t.id,
            attempt: t.attempt,
            raw: 256,
            exitCode: 1,
            signal: null,
            start: Date.now(),
            duration: 0,
            error: `lite task failed: ${err.message}`,
          });
        }
        this.scheduleFlush();
      },
    );
  }

  /**
   * Tops up the chain behind a running task (to `chainDepth` tasks still to end) with waiting
   * tasks that fit in what it uses.
   */
  private chain(entry: Running): void {
    if (this.stopping || this.config!.noop) return;
    let tail = entry;
    let length = 0;
    while (tail.successor) {
      tail = tail.successor;
      if (!tail.ended) length++;
    }
    if (liteTaskArgs(entry.task.argv)) return;
    for (const depth = this.chainDepth.value; length < depth; length++) {
      const next = this.queue.chainAfter(tail.task, (w) => liteTaskArgs(w.argv) === undefined);
      if (!next) return;
      tail.successor = this.start(next, tail);
      tail = tail.successor;
    }
  }

  private spec(t: TaskCommand, cfg: WorkerConfig): LaunchSpec {
    const env: Record<string, string> = {
      PMC_TASK: t.name,
      PMC_RANK: String(this.rank),
      PMC_HOST_RANK: String(this.hostRank),
      PMC_CPUS: String(t.cpus),
      PMC_MEMORY: String(t.memory),
    };
    if (t.affinity && t.affinity.length > 0) env.PMC_AFFINITY = t.affinity.join(',');
    // The device ids the master gave the task, as Slurm and HTCondor set it.
    if (t.gpus && t.gpus.length > 0) env.CUDA_VISIBLE_DEVICES = t.gpus.join(',');
    const spec: LaunchSpec = { argv: t.argv, env };
    if (cfg.perTaskStdio) {
      const files = openPerTaskStdio(cfg.dagDir, t.name);
      closeSync(files.outFd);
      closeSync(files.errFd);
      spec.stdout = { file: files.out, append: true };
      spec.stderr = { file: files.err, append: true };
    } else {
      spec.stdout = { capture: cfg.captureLimit };
      spec.stderr = { capture: cfg.captureLimit };
    }
    if (t.pipeForwards && t.pipeForwards.length > 0) {
      spec.extraCaptures = t.pipeForwards.map(([envVar], i) => ({
        fd: 20 + i,
        envVar,
        maxBytes: cfg.captureLimit,
      }));
    }
    if (cfg.strictLimits && t.memory > 0) spec.memoryLimitMb = t.memory;
    if (cfg.setAffinity && t.affinity && t.affinity.length > 0) {
      // The launcher binds it (sched_setaffinity) before exec, as PMC's worker does.
      spec.cpuAffinity = t.affinity;
      this.log.debug(`Binding task ${t.name} to cores: ${env.PMC_AFFINITY}`);
    }
    return spec;
  }

  private async afterLaunch(t: TaskCommand, spec: LaunchSpec, res: LaunchResult): Promise<void> {
    if (res.status.kind !== 'launch-failure') this.chainDepth.observe(res.duration);
    const result: TaskResult = {
      id: t.id,
      attempt: t.attempt,
      raw: res.raw,
      exitCode: res.status.kind === 'exit' ? res.status.code : null,
      signal: res.status.kind === 'signal' ? res.status.signal : null,
      start: res.start,
      duration: res.duration,
    };
    if (res.status.kind === 'launch-failure') {
      result.error = `launch failure: ${res.status.message}`;
      result.raw = 256;
    }
    if (res.stdout && res.stdout.size > 0) result.stdout = res.stdout.data;
    if (res.stderr && res.stderr.size > 0) result.stderr = res.stderr.data;
    let ok = result.raw === 0 && result.error === undefined;
    const forwards: [string, Buffer][] = [];
    if (ok && t.pipeForwards && res.captures) {
      t.pipeForwards.forEach(([, dest], i) => {
        const c = res.captures?.[i];
        if (c && c.size > 0) forwards.push([dest, c.data]);
      });
    }
    if (t.fileForwards && t.fileForwards.length > 0) {
      const error = await this.fileForwards(t, ok, forwards);
      if (error) {
        result.error = error;
        result.raw = 256;
        ok = false;
      }
    }
    if (ok && forwards.length > 0) result.forwards = forwards;
    result.record = taskRecordYaml(t, spec, res, this.hostname, this.rank);
    if (spec.stdout && typeof spec.stdout === 'object' && 'file' in spec.stdout) {
      // Per-task stdio: the cluster-task record follows the task's output in its .out file, as PMC does.
      const line = formatClusterTask({
        id: t.pegasusId,
        name: t.name,
        start: result.start,
        duration: result.duration,
        status: result.raw,
        app: t.argv[0],
        hostname: this.hostname,
        slot: this.rank,
        cpus: t.cpus,
        memory: t.memory,
      });
      await fsp.appendFile(spec.stdout.file, `${line}\n`).catch((e: Error) => {
        this.log.warn(`cannot append the cluster-task record to its .out file: ${e.message}`);
      });
    }
    this.finished(t, result);
  }

  /** Reads -F sources (on success), always unlinks them; returns an error text on failure. */
  private async fileForwards(
    t: TaskCommand,
    ok: boolean,
    out: [string, Buffer][],
  ): Promise<string | undefined> {
    let error: string | undefined;
    for (const [src, dest] of t.fileForwards ?? []) {
      if (ok && error === undefined) {
        // PMC's words, logged by the worker as PMC does; the master logs the failure too.
        try {
          const st = await fsp.stat(src);
          if (!st.isFile()) error = `${src} is not a file`;
          else if (st.size > MAX_FILE_FORWARD) error = `File ${src} is too large (over 1 MiB)`;
          else out.push([dest, await fsp.readFile(src)]);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
            error = `Unable to read ${src}: ${(e as Error).message}`;
        }
        if (error !== undefined) this.log.error(`Task ${t.name}: ${error}`);
      }
      await fsp.rm(src, { force: true }).catch(() => {});
    }
    return error;
  }

  /**
   * A task's process ended. The launcher has already started the first of its chained successors
   * still to end (a successor whose launch failed reports before its predecessor): the lane
   * passes to it and is topped up; a lane with nothing chained frees what it used for the next
   * waiting tasks.
   */
  private slotFreed(entry: Running): void {
    entry.ended = true;
    if (!entry.counted) return; // ended before its predecessor's result: the lane is not its yet
    let next = entry.successor;
    while (next?.ended) next = next.successor;
    this.queue.finish(entry.task, next?.task);
    if (next) next.counted = true;
    if (this.stopping) return;
    this.pump();
    if (next) this.chain(next);
  }

  /** A task's result is ready to report. */
  private finished(t: TaskCommand, r: TaskResult): void {
    this.running.delete(t.id);
    this.pending.push(r);
    this.scheduleFlush();
  }

  /**
   * Results go out in batches: at once when this worker has nothing queued (the master needs
   * them to release children or send more), else after at most RESULT_DELAY_MS or
   * RESULT_BATCH results, which costs nothing while queued tasks keep the worker busy.
   */
  private scheduleFlush(): void {
    const urgent =
      this.queue.waitingCount === 0 ||
      this.pending.length >= RESULT_BATCH ||
      this.rejected.length > 0 ||
      this.stopping;
    if (urgent) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
      }
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    } else if (!this.flushTimer && !this.flushScheduled) {
      this.flushTimer = setTimeout(() => this.flush(), RESULT_DELAY_MS);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const released = this.queue.release();
    if (
      this.pending.length === 0 &&
      this.rejected.length === 0 &&
      released.cpus === 0 &&
      released.memory === 0
    ) {
      return;
    }
    this.comm.send({ type: 'results', results: this.pending, released, rejected: this.rejected });
    this.pending = [];
    this.rejected = [];
  }

  /**
   * Signals every task, newest first: a chained task is cancelled before its predecessor, so the
   * launcher never starts a successor in the place of a cancelled one.
   */
  private killAll(sig: NodeJS.Signals): void {
    const all = [...this.running.values()];
    for (let i = all.length - 1; i >= 0; i--) all[i].handle?.signal(sig);
  }

  /**
   * At shutdown, as PMC does: SIGTERM to the host script's process group (services it started);
   * whatever is still there after HOST_SCRIPT_GRACE seconds gets SIGKILL.
   */
  private async endHostScriptGroup(): Promise<void> {
    const pgid = this.hostScriptGroup;
    if (pgid <= 0) return;
    this.hostScriptGroup = 0;
    const signal = (sig: NodeJS.Signals | 0): boolean => {
      try {
        process.kill(-pgid, sig);
        return true;
      } catch {
        return false; // ESRCH: the group is empty
      }
    };
    if (!signal('SIGTERM')) return;
    this.log.debug(`Worker ${this.rank}: Terminating host script process group with SIGTERM`);
    for (const end = Date.now() + HOST_SCRIPT_GRACE * 1000; Date.now() < end; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!signal(0)) return;
    }
    if (signal('SIGKILL'))
      this.log.warn(`Worker ${this.rank}: Sent SIGKILL to resilient host script processes`);
  }

  /**
   * Runs the host script (host rank 0 only) with PMC's messages. Its stdout and then its stderr
   * are forwarded to the worker's stderr when it ends (PMC sends both to stderr, so that they
   * never mix with task output). A failure is returned for the master to report as
   * `Worker N: ...`.
   */
  private async runHostScript(script: string): Promise<string | undefined> {
    const who = `Worker ${this.rank}`;
    this.log.debug(`${who}: Launching host script ${script}`);
    const launcher = this.launcher ?? createLauncher();
    const handle = launcher.launch({
      argv: [script],
      stdout: { capture: HOST_SCRIPT_CAPTURE },
      stderr: { capture: HOST_SCRIPT_CAPTURE },
      timeout: HOST_SCRIPT_TIMEOUT,
      killGrace: 0.01,
    });
    const res = await handle.result;
    if (launcher !== this.launcher) await launcher.close();
    this.hostScriptGroup = res.pid;
    for (const c of [res.stdout, res.stderr]) if (c && c.size > 0) process.stderr.write(c.data);
    if (res.timedOut) return `Host script timed out after ${HOST_SCRIPT_TIMEOUT} seconds`;
    if (res.status.kind === 'launch-failure')
      return `Host script ${script} could not start: ${res.status.message}`;
    if (res.status.kind === 'signal') {
      this.log.debug(`${who}: Host script exited on signal ${res.status.signal} (${res.raw})`);
    } else {
      this.log.debug(`${who}: Host script exited with status ${res.status.code} (${res.raw})`);
    }
    if (res.raw !== 0) return `Host script failed with status ${res.raw}`;
    return undefined;
  }
}
