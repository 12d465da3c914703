/**
 * Which CPUs of a host are given to which task: PMC's CPU binding rule (Host::allocate_resources
 * in its master.cpp), free of I/O.
 *
 * A task asking for one CPU (or none) is never bound: it floats, which keeps the map from
 * fragmenting. A task asking for more gets the first run of free CPU numbers, as many as it
 * asks, that starts on an aligned boundary: a socket's worth of threads when it needs at least
 * a whole socket, a core's worth when it needs at least a whole core, else any CPU. When no
 * such run is free the task runs unbound (PMC logs "CPU fragmentation detected"). CPUs given
 * stay given until `release`, so tasks holding CPUs at the same time never share one.
 */
export class CoreMap {
  /** Per CPU: the task it is given to, or -1. */
  private readonly owner: Int32Array;
  private readonly threadsPerCore: number;
  private readonly threadsPerSocket: number;

  /** `threads` CPUs (numbered 0..threads-1) on `cores` cores over `sockets` sockets. */
  constructor(
    readonly threads: number,
    cores = threads,
    sockets = 1,
  ) {
    this.owner = new Int32Array(Math.max(0, threads)).fill(-1);
    this.free = this.owner.length;
    this.threadsPerCore = Math.max(1, Math.floor(threads / Math.max(1, cores)));
    this.threadsPerSocket = Math.max(1, Math.floor(threads / Math.max(1, sockets)));
  }

  /** CPUs given to no task. */
  free: number;

  /** The CPUs `allocate` would give a task of `cpus` CPUs now (empty: unbound), without giving them. */
  find(cpus: number): number[] {
    if (cpus <= 1 || cpus > this.threads) return [];
    const align =
      Math.floor(cpus / this.threadsPerSocket) >= 1
        ? this.threadsPerSocket
        : Math.floor(cpus / this.threadsPerCore) >= 1
          ? this.threadsPerCore
          : 1;
    const { owner } = this;
    for (let start = 0; start + cpus <= this.threads; start += align) {
      let j = 0;
      while (j < cpus && owner[start + j] < 0) j++;
      if (j === cpus) return Array.from({ length: cpus }, (_, k) => start + k);
    }
    return [];
  }

  /**
   * Gives `task` its CPUs by PMC's rule: [] for a task of at most one CPU, undefined when no
   * aligned run of free CPUs is left (the task runs unbound).
   */
  allocate(task: number, cpus: number): number[] | undefined {
    if (cpus <= 1) return [];
    const found = this.find(cpus);
    if (found.length === 0) return undefined;
    for (const c of found) this.owner[c] = task;
    this.free -= found.length;
    return found;
  }

  /** Frees the CPUs given to `task`. */
  release(task: number, cpus: readonly number[]): void {
    for (const c of cpus) {
      if (this.owner[c] !== task) continue;
      this.owner[c] = -1;
      this.free++;
    }
  }
}
