import { CoreMap } from './core-map.js';
import type { Dag } from './dag.js';
import { TaskQueue } from './task-queue.js';

/** CPUs and memory (MB). */
export interface Resources {
  cpus: number;
  memory: number;
}

export interface SchedulerOptions {
  /** Stop releasing tasks after this many tasks failed for good (0 = unlimited). */
  maxFailures: number;
  /** Overrides every host's CPU count (--host-cpus). */
  hostCpus?: number;
  /** Overrides every host's memory in MB (--host-memory). */
  hostMemory?: number;
  /** Overrides every host's GPU count (--host-gpus). */
  hostGpus?: number;
  /** Epoch ms after which no task may still be running (--max-wall-time). */
  deadline?: number;
  /** Seconds of work kept queued at each worker beyond what it runs (prefetch). Default 0.05. */
  targetQueuedSeconds?: number;
  /** Upper bound on tasks queued ahead at one worker. Default 64. */
  maxPrefetch?: number;
  /** Called when a task enters the ready queue (first time and every retry). */
  onQueued?: (id: number) => void;
  /**
   * Called each time dispatch takes a task from the ready queue to place it (PMC's
   * `Scheduling task` trace): in priority order, then the order tasks became ready. A task that
   * fits nowhere now goes back to the queue and is taken again by a later pass.
   */
  onScheduling?: (id: number) => void;
  /** Called when a task is placed on a worker, after its host's resources were updated. */
  onAssigned?: (id: number, worker: WorkerState) => void;
  /** Called when a task of several CPUs finds no aligned run of free CPUs: it runs unbound. */
  onFragmented?: (id: number, host: HostState) => void;
}

/** What to send to one worker: resources added to its holding, and tasks to run. */
export interface Dispatch {
  rank: number;
  grant: Resources;
  tasks: number[];
}

export interface Completion {
  id: number;
  ok: boolean;
  /** Seconds the attempt ran. */
  duration: number;
}

export interface CompletionOutcome {
  /** Tasks that succeeded in this batch (record them DONE before dispatching children). */
  done: number[];
  /** Tasks that failed and will be tried again. */
  retried: number[];
  /** Tasks that failed for good. */
  failed: number[];
}

export interface HostState {
  readonly name: string;
  readonly cpus: number;
  readonly memory: number;
  freeCpus: number;
  freeMemory: number;
  readonly gpus: number;
  /** GPU device ids given to no task, ascending. */
  readonly freeGpus: number[];
  readonly workers: WorkerState[];
  /** Which CPU numbers are given to which task (tasks of several CPUs; see core-map.ts). */
  readonly coreMap: CoreMap;
}

export interface WorkerState {
  readonly rank: number;
  readonly host: HostState;
  readonly hostRank: number;
  ready: boolean;
  alive: boolean;
  heldCpus: number;
  heldMemory: number;
  /** Tasks sent and not yet reported back (running or queued at the worker). */
  readonly outstanding: Set<number>;
}

const WAITING = 0;
const READY = 1;
const ASSIGNED = 2;
const DONE = 3;
const FAILED = 4;

/** Consecutive tasks that fit nowhere before a scheduling pass gives up (bounds a pass's cost). */
const MAX_MISFITS = 64;

/**
 * The master's scheduling logic, free of I/O: dependencies, a priority queue of ready tasks,
 * per-host resources, per-worker holdings, retries, max failures and the wall-time gate.
 *
 * Resources follow a lease model. A host's CPUs and memory are either free or held by one of
 * its workers. A task is sent either with a grant of new resources taken from its host's free
 * pool (it starts at once), or, as prefetch, without a grant to a worker whose holding already
 * covers it (it starts when the worker's running tasks free enough). A worker releases what it
 * holds beyond its running tasks once its local queue is empty; a prefetched task that no longer
 * fits the worker's holding (the release crossed the task on the wire) is returned and requeued.
 * So a host never runs more than it has, and a worker keeps running back to back without a
 * round trip to the master between tasks, which is what limits pegasus-mpi-cluster.
 *
 * A worker that came first (or whose neighbour released at a quiet moment) can hold all of its
 * host's CPUs, and with prefetch it would never give them back: a ready worker on the same host
 * holding nothing then starves. While a host has such a worker, workers holding more than a fair
 * share of the host's CPUs get no prefetch, so their queues drain and release what the starved
 * one needs.
 *
 * GPUs are not leased: the master gives each task asking for some (`-g N`) its own device ids
 * from its host's free ones when it sends it (prefetched or not), and takes them back when the
 * task reports, is returned or its worker is lost; the worker sets CUDA_VISIBLE_DEVICES to them.
 */
export class Scheduler {
  readonly hosts = new Map<string, HostState>();
  readonly workers = new Map<number, WorkerState>();

  private readonly state: Uint8Array;
  private readonly pendingParents: Int32Array;
  private readonly failures: Int32Array;
  private readonly queue: TaskQueue;
  private readonly runtimeByExecutable = new Map<string, number>();
  private meanRuntime = 0.01;
  private runtimeSamples = 0;
  private releasing = true;
  private stopped = false;
  private outstandingTotal = 0;
  /** Per dispatch pass: hosts with a starved worker, and their fair share of CPUs per worker. */
  private readonly fairShare = new Map<HostState, number>();
  /** The CPU numbers given to each task sent and not reported yet (tasks of several CPUs). */
  private readonly bindings = new Map<number, number[]>();
  /** The GPU device ids given to each task sent and not reported yet. */
  private readonly gpuBindings = new Map<number, number[]>();

  /** Task sends, retries included (PMC's `submitted`). */
  submitted = 0;
  succeededAttempts = 0;
  failedAttempts = 0;
  /** Tasks that failed for good. */
  permanentFailures = 0;
  /** Tasks done, those recorded in the rescue log included. */
  doneCount = 0;
  /** Sum of the runtimes of every attempt, in seconds. */
  totalRuntime = 0;

  constructor(
    readonly dag: Dag,
    done: Uint8Array,
    private readonly options: SchedulerOptions,
  ) {
    const n = dag.size;
    this.state = new Uint8Array(n);
    this.pendingParents = Int32Array.from(dag.parentCount);
    this.failures = new Int32Array(n);
    this.queue = new TaskQueue(dag.priority, Math.min(n, 1 << 16));
    for (let i = 0; i < n; i++) {
      if (!done[i]) continue;
      this.state[i] = DONE;
      this.doneCount++;
      const children = dag.children(i);
      for (let k = 0; k < children.length; k++) this.pendingParents[children[k]]--;
    }
    for (let i = 0; i < n; i++) {
      if (this.state[i] === WAITING && this.pendingParents[i] <= 0) this.enqueue(i);
    }
  }

  /** Registers a worker; returns its host rank (0 for the first worker on a host). */
  addWorker(rank: number, info: { hostname: string; cpus: number; memory: number; gpus?: number }): number {
    let host = this.hosts.get(info.hostname);
    if (!host) {
      const cpus = this.options.hostCpus ?? info.cpus;
      const memory = this.options.hostMemory ?? info.memory;
      const gpus = this.options.hostGpus ?? info.gpus ?? 0;
      host = {
        name: info.hostname,
        cpus,
        memory,
        freeCpus: cpus,
        freeMemory: memory,
        gpus,
        freeGpus: Array.from({ length: gpus }, (_, k) => k),
        workers: [],
        coreMap: new CoreMap(cpus),
      };
      this.hosts.set(info.hostname, host);
    }
    const hostRank = host.workers.length;
    const worker: WorkerState = {
      rank,
      host,
      hostRank,
      ready: false,
      alive: true,
      heldCpus: 0,
      heldMemory: 0,
      outstanding: new Set(),
    };
    host.workers.push(worker);
    this.workers.set(rank, worker);
    return hostRank;
  }

  /** The worker has run its host script (if any) and may receive tasks. */
  setReady(rank: number): void {
    const w = this.workers.get(rank);
    if (w?.alive) w.ready = true;
  }

  /** The name of a task that fits no known host even when the host is empty, or undefined. */
  findInfeasible(): string | undefined {
    const hosts = [...this.hosts.values()];
    if (hosts.length === 0) return undefined;
    const { cpus, memory, gpus, names } = this.dag;
    let maxCpus = 0;
    let maxMemory = 0;
    let maxGpus = 0;
    for (const h of hosts) {
      maxCpus = Math.max(maxCpus, h.cpus);
      maxMemory = Math.max(maxMemory, h.memory);
      maxGpus = Math.max(maxGpus, h.gpus);
    }
    for (let i = 0; i < this.dag.size; i++) {
      if (
        cpus[i] <= maxCpus &&
        memory[i] <= maxMemory &&
        gpus[i] <= maxGpus &&
        this.fitsSomeHost(hosts, cpus[i], memory[i], gpus[i])
      )
        continue;
      return names[i];
    }
    return undefined;
  }

  /** Decides what to send now. */
  dispatch(now = Date.now()): Dispatch[] {
    if (this.stopped || this.queue.size === 0) return [];
    this.findStarvedHosts();
    const out = new Map<number, Dispatch>();
    const deferred: number[] = [];
    let misfits = 0;
    const { cpus, memory, gpus } = this.dag;
    const { onScheduling, onAssigned } = this.options;
    while (this.queue.size > 0 && misfits < MAX_MISFITS) {
      const id = this.queue.pop();
      if (onScheduling) onScheduling(id);
      if (!this.canFinishInTime(id, now)) {
        deferred.push(id);
        misfits++;
        continue;
      }
      const c = cpus[id];
      const m = memory[id];
      const g = gpus[id];
      const allocated = this.allocate(c, m, g);
      let worker = allocated ?? this.prefetchTarget(c, m, g);
      // Prefetched, a task of several CPUs would hold CPU numbers while it waits: only when free.
      if (worker && !allocated && c > 1 && worker.host.coreMap.find(c).length === 0) worker = undefined;
      if (!worker) {
        deferred.push(id);
        misfits++;
        if (!this.anyWorkerHasRoom()) break;
        continue;
      }
      misfits = 0;
      let d = out.get(worker.rank);
      if (!d) {
        d = { rank: worker.rank, grant: { cpus: 0, memory: 0 }, tasks: [] };
        out.set(worker.rank, d);
      }
      if (allocated) {
        d.grant.cpus += c;
        d.grant.memory += m;
      }
      d.tasks.push(id);
      if (c > 1) this.bind(id, c, worker.host);
      if (g > 0) this.gpuBindings.set(id, worker.host.freeGpus.splice(0, g));
      worker.outstanding.add(id);
      this.outstandingTotal++;
      this.state[id] = ASSIGNED;
      this.submitted++;
      if (onAssigned) onAssigned(id, worker);
    }
    for (let i = 0; i < deferred.length; i++) this.queue.push(deferred[i]);
    return [...out.values()];
  }

  /** Applies a worker's report. Stale reports (unknown or lost worker, unknown task) are ignored. */
  complete(
    rank: number,
    completions: Completion[],
    released: Resources,
    rejected: number[],
  ): CompletionOutcome {
    const outcome: CompletionOutcome = { done: [], retried: [], failed: [] };
    const w = this.workers.get(rank);
    if (!w?.alive) return outcome;
    const rc = Math.min(released.cpus, w.heldCpus);
    const rm = Math.min(released.memory, w.heldMemory);
    w.heldCpus -= rc;
    w.heldMemory -= rm;
    w.host.freeCpus += rc;
    w.host.freeMemory += rm;
    for (const id of rejected) {
      if (!w.outstanding.delete(id)) continue;
      if (this.bindings.size > 0) this.unbind(id, w.host);
      if (this.gpuBindings.size > 0) this.releaseGpus(id, w.host);
      this.outstandingTotal--;
      this.submitted--;
      this.state[id] = READY;
      this.queue.push(id);
    }
    for (const c of completions) {
      if (!w.outstanding.delete(c.id)) continue;
      if (this.bindings.size > 0) this.unbind(c.id, w.host);
      if (this.gpuBindings.size > 0) this.releaseGpus(c.id, w.host);
      this.outstandingTotal--;
      this.noteRuntime(c.id, c.duration);
      if (c.ok) {
        this.succeededAttempts++;
        this.state[c.id] = DONE;
        this.doneCount++;
        outcome.done.push(c.id);
        this.releaseChildren(c.id);
      } else {
        this.failedAttempts++;
        const failures = ++this.failures[c.id];
        if (failures < Math.max(1, this.dag.tries[c.id]) && this.releasing && !this.stopped) {
          outcome.retried.push(c.id);
          this.enqueue(c.id);
        } else {
          this.state[c.id] = FAILED;
          this.permanentFailures++;
          outcome.failed.push(c.id);
          const max = this.options.maxFailures;
          if (max > 0 && this.permanentFailures >= max) this.stopReleasing();
        }
      }
    }
    return outcome;
  }

  /** A worker is gone: its tasks go back to the queue (not counted as failures). */
  workerLost(rank: number): number[] {
    const w = this.workers.get(rank);
    if (!w?.alive) return [];
    w.alive = false;
    w.ready = false;
    w.host.freeCpus += w.heldCpus;
    w.host.freeMemory += w.heldMemory;
    w.heldCpus = 0;
    w.heldMemory = 0;
    const requeued = [...w.outstanding];
    w.outstanding.clear();
    this.outstandingTotal -= requeued.length;
    for (const id of requeued) {
      this.unbind(id, w.host);
      this.releaseGpus(id, w.host);
      this.submitted--;
      if (this.stopped || !this.releasing) this.state[id] = WAITING;
      else {
        this.state[id] = READY;
        this.queue.push(id);
      }
    }
    const i = w.host.workers.indexOf(w);
    if (i >= 0) w.host.workers.splice(i, 1);
    return requeued;
  }

  /** No more dispatch (signal, wall time): the run ends when the outstanding tasks report. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** True once max-failures was reached. */
  get releaseStopped(): boolean {
    return !this.releasing;
  }

  /** Tasks sent and not reported yet, over all workers. */
  get outstanding(): number {
    return this.outstandingTotal;
  }

  get readyCount(): number {
    return this.queue.size;
  }

  readyWorkers(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.alive && w.ready) n++;
    return n;
  }

  liveWorkers(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.alive) n++;
    return n;
  }

  /** Nothing runs and nothing more will be started. */
  get finished(): boolean {
    if (this.outstandingTotal > 0) return false;
    return this.queue.size === 0 || this.stopped;
  }

  /**
   * Nothing runs and every ready task is held back because it cannot finish before the
   * deadline: the run must end and be resumed later.
   */
  blockedByDeadline(now = Date.now()): boolean {
    if (this.options.deadline === undefined || this.outstandingTotal > 0 || this.queue.size === 0)
      return false;
    // Every ready task, not only the first: a lower-priority one may be short enough.
    return this.queue.every((id) => !this.canFinishInTime(id, now));
  }

  get succeeded(): boolean {
    return this.doneCount === this.dag.size;
  }

  isDone(id: number): boolean {
    return this.state[id] === DONE;
  }

  /** Attempts made so far for a task, failed ones. */
  failuresOf(id: number): number {
    return this.failures[id];
  }

  /** Runtime estimate in seconds for the wall-time gate. */
  estimate(id: number): number {
    return (
      this.runtimeByExecutable.get(this.dag.argv[id][0]) ?? (this.runtimeSamples > 0 ? this.meanRuntime : 0)
    );
  }

  /** The CPU numbers given to a task sent and not reported yet; undefined when it floats. */
  bindingOf(id: number): number[] | undefined {
    return this.bindings.get(id);
  }

  /** The GPU device ids given to a task sent and not reported yet; undefined when it asks for none. */
  gpusOf(id: number): number[] | undefined {
    return this.gpuBindings.get(id);
  }

  /** Epoch ms after which the task should not start (deadline minus its estimate), if any. */
  latestStart(id: number): number | undefined {
    const deadline = this.options.deadline;
    return deadline === undefined ? undefined : deadline - this.estimate(id) * 1000;
  }

  /** Gives a task of several CPUs its CPU numbers on its host (PMC's rule), or reports fragmentation. */
  private bind(id: number, cpus: number, host: HostState): void {
    const b = host.coreMap.allocate(id, cpus);
    if (b === undefined) this.options.onFragmented?.(id, host);
    else if (b.length > 0) this.bindings.set(id, b);
  }

  private unbind(id: number, host: HostState): void {
    const b = this.bindings.get(id);
    if (b === undefined) return;
    host.coreMap.release(id, b);
    this.bindings.delete(id);
  }

  private releaseGpus(id: number, host: HostState): void {
    const ids = this.gpuBindings.get(id);
    if (ids === undefined) return;
    this.gpuBindings.delete(id);
    host.freeGpus.push(...ids);
    host.freeGpus.sort((a, b) => a - b);
  }

  private enqueue(id: number): void {
    this.state[id] = READY;
    this.queue.push(id);
    this.options.onQueued?.(id);
  }

  private releaseChildren(id: number): void {
    const children = this.dag.children(id);
    for (let k = 0; k < children.length; k++) {
      const child = children[k];
      if (--this.pendingParents[child] === 0 && this.state[child] === WAITING && this.releasing) {
        this.enqueue(child);
      }
    }
  }

  private stopReleasing(): void {
    this.releasing = false;
    for (const id of this.queue.drain()) this.state[id] = WAITING;
  }

  private noteRuntime(id: number, duration: number): void {
    const d = Number.isFinite(duration) && duration > 0 ? duration : 0;
    this.totalRuntime += d;
    this.runtimeSamples++;
    this.meanRuntime = this.runtimeSamples === 1 ? d : this.meanRuntime * 0.9 + d * 0.1;
    const exe = this.dag.argv[id][0];
    const prev = this.runtimeByExecutable.get(exe);
    if (prev === undefined || d > prev) this.runtimeByExecutable.set(exe, d);
  }

  private canFinishInTime(id: number, now: number): boolean {
    const deadline = this.options.deadline;
    if (deadline === undefined) return true;
    return now + this.estimate(id) * 1000 <= deadline;
  }

  private prefetchDepth(): number {
    const target = this.options.targetQueuedSeconds ?? 0.05;
    const max = this.options.maxPrefetch ?? 64;
    const depth = Math.round(target / Math.max(this.meanRuntime, 1e-4));
    return Math.max(1, Math.min(max, depth));
  }

  private limit(w: WorkerState, extraCpus: number): number {
    return Math.max(1, w.heldCpus + extraCpus) + this.prefetchDepth();
  }

  /**
   * A ready worker on a host with the resources free now, the least loaded first. A task of
   * several CPUs also needs as many CPU numbers not given to other tasks (those prefetched hold
   * theirs while they wait); whether they form an aligned run is PMC's fragmentation question.
   */
  private allocate(c: number, m: number, g: number): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const host of this.hosts.values()) {
      if (host.freeCpus < c || host.freeMemory < m) continue;
      if (g > 0 && host.freeGpus.length < g) continue;
      if (c > 1 && host.coreMap.free < c) continue;
      for (const w of host.workers) {
        if (!w.ready || w.outstanding.size >= this.limit(w, c)) continue;
        if (!best || w.outstanding.size < best.outstanding.size) best = w;
      }
    }
    if (best) {
      best.host.freeCpus -= c;
      best.host.freeMemory -= m;
      best.heldCpus += c;
      best.heldMemory += m;
    }
    return best;
  }

  /**
   * Hosts where a ready worker holds nothing and has nothing to do while another holds more than
   * a fair share (ceil(host CPUs / ready workers)); computed once per dispatch pass.
   */
  private findStarvedHosts(): void {
    this.fairShare.clear();
    for (const host of this.hosts.values()) {
      if (host.workers.length < 2) continue;
      let ready = 0;
      let starved = false;
      let most = 0;
      for (const w of host.workers) {
        if (!w.ready) continue;
        ready++;
        if (w.heldCpus === 0 && w.outstanding.size === 0) starved = true;
        most = Math.max(most, w.heldCpus);
      }
      const share = Math.ceil(host.cpus / Math.max(1, ready));
      if (starved && most > share) this.fairShare.set(host, share);
    }
  }

  /** A ready worker whose holding covers the task (and whose host has its GPUs free) and whose queue has room. */
  private prefetchTarget(c: number, m: number, g: number): WorkerState | undefined {
    let best: WorkerState | undefined;
    for (const w of this.workers.values()) {
      if (!w.ready || w.heldCpus < c || w.heldMemory < m) continue;
      if (g > 0 && w.host.freeGpus.length < g) continue;
      const share = this.fairShare.get(w.host);
      if (share !== undefined && w.heldCpus > share) continue;
      if (w.outstanding.size >= this.limit(w, 0)) continue;
      if (!best || w.outstanding.size < best.outstanding.size) best = w;
    }
    return best;
  }

  private anyWorkerHasRoom(): boolean {
    for (const w of this.workers.values()) {
      if (w.ready && w.outstanding.size < this.limit(w, 0)) return true;
    }
    return false;
  }

  private fitsSomeHost(hosts: HostState[], c: number, m: number, g: number): boolean {
    for (const h of hosts) if (h.cpus >= c && h.memory >= m && h.gpus >= g) return true;
    return false;
  }
}
