import type { Grant, TaskCommand } from './protocol.js';

/**
 * A worker's side of the lease model (see scheduler.ts), free of I/O: what the worker holds,
 * what runs, what waits. Tasks start in arrival order while the head fits in what is held and
 * not used; when nothing waits, whatever is held and unused goes back to the master.
 *
 * A task may be chained behind a running one it fits in (chainAfter): the launcher starts it the
 * moment its predecessor ends, in the resources the predecessor frees, so it is counted as
 * running only from then on (finish(predecessor, successor)). A running task and the tasks
 * chained behind it form one lane and use one task's resources.
 */
export class WorkerQueue {
  heldCpus = 0;
  heldMemory = 0;
  runningCpus = 0;
  runningMemory = 0;
  running = 0;
  private waiting: TaskCommand[] = [];
  private head = 0;

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Adds a grant and tasks; returns the ids of tasks that can never fit what is held. */
  accept(grant: Grant, tasks: TaskCommand[]): number[] {
    this.heldCpus += grant.cpus;
    this.heldMemory += grant.memory;
    const rejected: number[] = [];
    for (const t of tasks) {
      if (t.cpus > this.heldCpus || t.memory > this.heldMemory) rejected.push(t.id);
      else this.waiting.push(t);
    }
    return rejected;
  }

  /** The next task to start now, or undefined if none fits (or none waits). */
  next(): TaskCommand | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const t = this.waiting[this.head];
    if (t.cpus > this.heldCpus - this.runningCpus || t.memory > this.heldMemory - this.runningMemory) {
      return undefined;
    }
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.runningCpus += t.cpus;
    this.runningMemory += t.memory;
    this.running++;
    return t;
  }

  /**
   * The next waiting task, to be started by the launcher the moment `t` ends, when it fits in
   * what `t` uses (and has no latest start time to check) and `chainable` accepts it. It leaves the queue; it counts as
   * running when `t` ends and hands its resources over (finish(t, it)).
   */
  chainAfter(t: TaskCommand, chainable: (w: TaskCommand) => boolean = () => true): TaskCommand | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const w = this.waiting[this.head];
    if (w.cpus > t.cpus || w.memory > t.memory || w.latestStart !== undefined || !chainable(w))
      return undefined;
    this.head++;
    return w;
  }

  /** A running task ended; `successor`, chained behind it, now runs in what it used. */
  finish(t: TaskCommand, successor?: TaskCommand): void {
    this.runningCpus -= t.cpus;
    this.runningMemory -= t.memory;
    this.running--;
    if (successor) {
      this.runningCpus += successor.cpus;
      this.runningMemory += successor.memory;
      this.running++;
    }
  }

  /** What to give back: everything held and unused, once nothing waits. */
  release(): Grant {
    if (this.waitingCount > 0) return { cpus: 0, memory: 0 };
    const free = {
      cpus: Math.max(0, this.heldCpus - this.runningCpus),
      memory: Math.max(0, this.heldMemory - this.runningMemory),
    };
    this.heldCpus -= free.cpus;
    this.heldMemory -= free.memory;
    return free;
  }

  /** Removes every waiting task (they go back to the master). */
  drainWaiting(): TaskCommand[] {
    const out = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    return out;
  }
}
