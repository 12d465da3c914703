import { PriorityHeap } from './internal/priority-heap.js';
import { type AttemptOutcome, JOB_STATE_NAMES, JobState } from './job-state.js';
import type { Plan } from './plan-file.js';

/** What became of a job after one of its attempts ended. */
export type AfterAttempt = 'done' | 'retry' | 'failed';

/**
 * The pure core of the engine: every job's state, the parents each still waits for, its
 * attempts and failures, and the ready jobs in priority order. No I/O: the engine asks it what
 * may start (`pick`) and tells it how attempts ended (`finish`).
 *
 * Ready jobs wait in one heap per lane (the engine's lane = backend + throttle category), so a
 * lane that cannot take more work (local slots full, a category at its limit) does not hold up
 * the others, and each pick is O(lanes + log n).
 */
export class WorkflowState {
  readonly state: Uint8Array;
  /** parents not yet succeeded */
  readonly waiting: Int32Array;
  /** attempts started so far (the next attempt's seq is attempts + 1) */
  readonly attempts: Int32Array;
  /** failed attempts counted against the retries */
  readonly failures: Int32Array;
  readonly priority: Int32Array;
  private readonly counts = new Int32Array(JOB_STATE_NAMES.length);
  private readonly lanes = new Map<string, PriorityHeap>();
  private readonly laneOfJob: PriorityHeap[];

  constructor(
    readonly plan: Plan,
    laneOf: (job: number) => string,
  ) {
    const n = plan.jobs.length;
    this.state = new Uint8Array(n);
    this.waiting = Int32Array.from(plan.parentCount);
    this.attempts = new Int32Array(n);
    this.failures = new Int32Array(n);
    this.priority = new Int32Array(n);
    this.laneOfJob = new Array(n);
    for (let i = 0; i < n; i++) {
      this.priority[i] = plan.jobs[i].priority;
      const key = laneOf(i);
      let heap = this.lanes.get(key);
      if (!heap) {
        heap = new PriorityHeap(this.priority);
        this.lanes.set(key, heap);
      }
      this.laneOfJob[i] = heap;
    }
    this.counts[JobState.UNREADY] = n;
  }

  get size(): number {
    return this.state.length;
  }

  count(s: JobState): number {
    return this.counts[s];
  }

  /** Jobs submitted and not yet judged (queued, running or in post). */
  get active(): number {
    return this.counts[JobState.QUEUED] + this.counts[JobState.RUNNING] + this.counts[JobState.POST];
  }

  /** Nothing runs and nothing can start: the run is over. */
  get finished(): boolean {
    return this.active === 0 && this.counts[JobState.READY] === 0;
  }

  get succeeded(): boolean {
    return this.counts[JobState.SUCCESS] === this.size;
  }

  /**
   * Restores a job that succeeded before (from the journal). Call for every such job before
   * `release()`; its children's waiting counts drop as if it had just finished.
   */
  restoreSuccess(i: number): void {
    this.set(i, JobState.SUCCESS);
    for (const c of this.plan.children[i]) this.waiting[c]--;
  }

  /** Restores an attempt in flight when the engine stopped (adopted, not restarted). */
  restoreActive(i: number, s: JobState): void {
    this.set(i, s);
  }

  /** After restoring: every unready job with nothing left to wait for becomes ready. */
  release(): void {
    for (let i = 0; i < this.size; i++) {
      if (this.state[i] === JobState.UNREADY && this.waiting[i] === 0) this.makeReady(i);
    }
  }

  /**
   * The highest-priority ready job that `canStart` accepts, taken off the ready queue and marked
   * QUEUED; undefined when none. `canStart` is asked only about the head of each lane.
   */
  pick(canStart: (job: number) => boolean): number | undefined {
    let best: PriorityHeap | undefined;
    let bestJob = -1;
    for (const heap of this.lanes.values()) {
      const j = heap.peek();
      if (j === undefined) continue;
      if (bestJob >= 0) {
        const pj = this.priority[j];
        const pb = this.priority[bestJob];
        if (pj < pb || (pj === pb && j > bestJob)) continue;
      }
      if (!canStart(j)) continue;
      best = heap;
      bestJob = j;
    }
    if (!best) return undefined;
    best.pop();
    this.attempts[bestJob]++;
    this.set(bestJob, JobState.QUEUED);
    return bestJob;
  }

  /** QUEUED -> RUNNING -> POST as the backend reports. */
  advance(i: number, s: JobState): void {
    this.set(i, s);
  }

  /**
   * An attempt ended. Success releases the children; a failure within the retries, an eviction
   * or a lost attempt puts the job back in the ready queue; a failure beyond them is final.
   */
  finish(i: number, outcome: AttemptOutcome): AfterAttempt {
    if (outcome === 'success') {
      this.set(i, JobState.SUCCESS);
      for (const c of this.plan.children[i]) {
        if (--this.waiting[c] === 0 && this.state[c] === JobState.UNREADY) this.makeReady(c);
      }
      return 'done';
    }
    if (outcome === 'failure') {
      this.failures[i]++;
      if (this.failures[i] > this.plan.jobs[i].retries) {
        this.set(i, JobState.FAILURE);
        return 'failed';
      }
    }
    this.makeReady(i);
    return 'retry';
  }

  private makeReady(i: number): void {
    this.set(i, JobState.READY);
    this.laneOfJob[i].push(i);
  }

  private set(i: number, s: JobState): void {
    this.counts[this.state[i]]--;
    this.counts[s]++;
    this.state[i] = s;
  }
}
