import { type AbstractWorkflow, type FileUse, isInputUse, isOutputUse, type Job } from './workflow.js';

export type EdgeKind = 'explicit' | 'data';

/**
 * The job graph of an abstract workflow, indexed by position in `workflow.jobs`: explicit edges
 * from `jobDependencies` plus (by default) data edges from producer to consumer of each LFN.
 * Built in O(jobs + uses + edges). Dangling ids and duplicate ids are skipped here (see
 * workflowIssues); the first job with a given id wins.
 */
export class WorkflowGraph {
  readonly jobs: readonly Job[];
  readonly indexOf = new Map<string, number>();
  /** children[i]: indices of the children of jobs[i], without duplicates */
  readonly children: number[][];
  readonly parents: number[][];
  /** lfn -> indices of the jobs that write it (output, inout, checkpoint) */
  readonly producers = new Map<string, number[]>();
  private readonly kinds = new Map<number, Map<number, EdgeKind>>();

  constructor(wf: AbstractWorkflow, options: { dataDependencies?: boolean } = {}) {
    this.jobs = wf.jobs;
    const n = wf.jobs.length;
    this.children = Array.from({ length: n }, () => []);
    this.parents = Array.from({ length: n }, () => []);
    wf.jobs.forEach((j, i) => {
      if (!this.indexOf.has(j.id)) this.indexOf.set(j.id, i);
    });
    for (const d of wf.dependencies) {
      const p = this.indexOf.get(d.id);
      if (p === undefined) continue;
      for (const c of d.children) {
        const ci = this.indexOf.get(c);
        if (ci !== undefined) this.addEdge(p, ci, 'explicit');
      }
    }
    // a job whose id is empty or repeats an earlier one (both reported by workflowIssues) stays out
    const live = (j: Job, i: number): boolean => j.id !== '' && this.indexOf.get(j.id) === i;
    wf.jobs.forEach((j, i) => {
      if (!live(j, i)) return;
      for (const u of j.uses) {
        if (!isOutputUse(u)) continue;
        const list = this.producers.get(u.lfn);
        if (!list) this.producers.set(u.lfn, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
    if (options.dataDependencies ?? true) {
      wf.jobs.forEach((j, i) => {
        if (!live(j, i)) return;
        for (const u of j.uses) {
          if (u.type !== 'input') continue;
          const prods = this.producers.get(u.lfn);
          if (prods) for (const p of prods) if (p !== i) this.addEdge(p, i, 'data');
        }
      });
    }
  }

  private addEdge(p: number, c: number, kind: EdgeKind): void {
    let m = this.kinds.get(p);
    if (!m) {
      m = new Map();
      this.kinds.set(p, m);
    }
    if (m.has(c)) return;
    m.set(c, kind);
    this.children[p].push(c);
    this.parents[c].push(p);
  }

  get size(): number {
    return this.jobs.length;
  }

  /** How the edge p -> c came about, or undefined when there is none. */
  edgeKind(p: number, c: number): EdgeKind | undefined {
    return this.kinds.get(p)?.get(c);
  }

  childrenOf(id: string): Job[] {
    const i = this.indexOf.get(id);
    return i === undefined ? [] : this.children[i].map((c) => this.jobs[c]);
  }

  parentsOf(id: string): Job[] {
    const i = this.indexOf.get(id);
    return i === undefined ? [] : this.parents[i].map((c) => this.jobs[c]);
  }

  /** Every edge as [parent id, child id, kind]. */
  *edges(): IterableIterator<[string, string, EdgeKind]> {
    for (let p = 0; p < this.children.length; p++) {
      for (const c of this.children[p])
        yield [this.jobs[p].id, this.jobs[c].id, this.edgeKind(p, c) ?? 'explicit'];
    }
  }

  /** Job indices in a topological order (Kahn), or undefined when the graph has a cycle. */
  topologicalOrder(): number[] | undefined {
    const n = this.jobs.length;
    const indeg = new Int32Array(n);
    for (let i = 0; i < n; i++) for (const c of this.children[i]) indeg[c]++;
    const order: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0 && this.indexOf.get(this.jobs[i].id) === i) order.push(i);
    let expected = 0;
    for (let i = 0; i < n; i++) if (this.indexOf.get(this.jobs[i].id) === i) expected++;
    for (let k = 0; k < order.length; k++) {
      for (const c of this.children[order[k]]) if (--indeg[c] === 0) order.push(c);
    }
    return order.length === expected ? order : undefined;
  }

  /** One cycle as a list of job indices [a, b, ..., a], or undefined (iterative DFS, O(V+E)). */
  findCycle(): number[] | undefined {
    const n = this.jobs.length;
    const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    const parentOf = new Int32Array(n).fill(-1);
    for (let s = 0; s < n; s++) {
      if (state[s] !== 0) continue;
      const stack: [number, number][] = [[s, 0]];
      state[s] = 1;
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const [v, k] = top;
        if (k < this.children[v].length) {
          top[1]++;
          const c = this.children[v][k];
          if (state[c] === 0) {
            state[c] = 1;
            parentOf[c] = v;
            stack.push([c, 0]);
          } else if (state[c] === 1) {
            const cycle = [c];
            for (let x = v; x !== c && x >= 0; x = parentOf[x]) cycle.push(x);
            cycle.push(c);
            return cycle.reverse();
          }
        } else {
          state[v] = 2;
          stack.pop();
        }
      }
    }
    return undefined;
  }

  /** Raw inputs: LFNs read by some job (type input) and written by none, with their uses. */
  rawInputs(): Map<string, { job: Job; use: FileUse }[]> {
    const out = new Map<string, { job: Job; use: FileUse }[]>();
    for (const job of this.jobs) {
      for (const use of job.uses) {
        if (!isInputUse(use) || this.producers.has(use.lfn)) continue;
        if (use.type !== 'input') continue;
        const list = out.get(use.lfn);
        if (list) list.push({ job, use });
        else out.set(use.lfn, [{ job, use }]);
      }
    }
    return out;
  }
}
