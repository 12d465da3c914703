/**
 * The master's queue of ready tasks: a binary max-heap of task indexes ordered by priority
 * (larger first), then by the order in which tasks became ready (first in, first out).
 *
 * Unlike PMC's std::priority_queue, equal priorities keep their arrival order, so dispatch order
 * is deterministic. Storage is two typed arrays that grow by doubling: a million queued tasks
 * cost about 12 MB.
 */
export class TaskQueue {
  private ids: Int32Array;
  private seqs: Float64Array;
  private count = 0;
  private nextSeq = 0;

  constructor(
    private readonly priority: Int32Array,
    initialCapacity = 1024,
  ) {
    this.ids = new Int32Array(Math.max(16, initialCapacity));
    this.seqs = new Float64Array(this.ids.length);
  }

  get size(): number {
    return this.count;
  }

  push(id: number): void {
    if (this.count === this.ids.length) this.grow();
    let i = this.count++;
    const seq = this.nextSeq++;
    // sift up
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(id, seq, this.ids[parent], this.seqs[parent])) break;
      this.ids[i] = this.ids[parent];
      this.seqs[i] = this.seqs[parent];
      i = parent;
    }
    this.ids[i] = id;
    this.seqs[i] = seq;
  }

  /** Highest-priority task, or -1 when empty. */
  peek(): number {
    return this.count === 0 ? -1 : this.ids[0];
  }

  /** Removes and returns the highest-priority task, or -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.ids[0];
    const last = --this.count;
    if (last > 0) {
      const id = this.ids[last];
      const seq = this.seqs[last];
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= last) break;
        const right = left + 1;
        let child = left;
        if (right < last && this.before(this.ids[right], this.seqs[right], this.ids[left], this.seqs[left])) {
          child = right;
        }
        if (!this.before(this.ids[child], this.seqs[child], id, seq)) break;
        this.ids[i] = this.ids[child];
        this.seqs[i] = this.seqs[child];
        i = child;
      }
      this.ids[i] = id;
      this.seqs[i] = seq;
    }
    return top;
  }

  clear(): void {
    this.count = 0;
  }

  /** True when `test` holds for every queued task (in no particular order); the queue is unchanged. */
  every(test: (id: number) => boolean): boolean {
    for (let i = 0; i < this.count; i++) if (!test(this.ids[i])) return false;
    return true;
  }

  /** Removes every task and returns them (in no particular order). */
  drain(): number[] {
    const out = Array.from(this.ids.subarray(0, this.count));
    this.count = 0;
    return out;
  }

  private before(a: number, seqA: number, b: number, seqB: number): boolean {
    const pa = this.priority[a];
    const pb = this.priority[b];
    return pa > pb || (pa === pb && seqA < seqB);
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    const seqs = new Float64Array(ids.length);
    seqs.set(this.seqs);
    this.ids = ids;
    this.seqs = seqs;
  }
}
