/**
 * The in-memory DAG of the cluster runner, stored as struct-of-arrays so that a
 * 1,000,000-task DAG stays small: task index = order of appearance in the file.
 * Build one with `DagBuilder` (or `parseDag` from dag-file.ts).
 */

export type Forward = readonly [string, string];

const NO_FORWARDS: readonly Forward[] = Object.freeze([]);

export interface DagData {
  file: string;
  names: string[];
  argv: string[][];
  memory: Uint32Array;
  cpus: Uint32Array;
  gpus: Uint32Array;
  tries: Int32Array;
  priority: Int32Array;
  pegasusIds: Map<number, string>;
  pipeForwards: Map<number, Forward[]>;
  fileForwards: Map<number, Forward[]>;
  index: Map<string, number>;
  /** CSR: children of task i are childIndex[childOffsets[i] .. childOffsets[i+1]). */
  childOffsets: Int32Array;
  childIndex: Int32Array;
  parentCount: Int32Array;
}

export class Dag {
  readonly file: string;
  readonly size: number;
  /** Task names. */
  readonly names: string[];
  /** Command of each task; argv[i][0] is the executable token exactly as written. */
  readonly argv: string[][];
  /** Requested memory in MB (0 = not given). */
  readonly memory: Uint32Array;
  /** Requested CPUs (default 1; 0 allowed). */
  readonly cpus: Uint32Array;
  /** Requested GPUs (default 0). */
  readonly gpus: Uint32Array;
  /** Attempts allowed, resolved with the default (a 0 in the file counts as 1). */
  readonly tries: Int32Array;
  /** Larger runs first; default 0. */
  readonly priority: Int32Array;
  /** Number of (distinct) parents of each task. */
  readonly parentCount: Int32Array;
  /** CSR offsets (size + 1 entries) into childIndex. */
  readonly childOffsets: Int32Array;
  /** CSR list of children, grouped by parent, each group in order of its EDGE lines. */
  readonly childIndex: Int32Array;
  readonly edgeCount: number;
  private readonly pegasusIdMap: Map<number, string>;
  private readonly pipeMap: Map<number, Forward[]>;
  private readonly fileMap: Map<number, Forward[]>;
  private readonly index: Map<string, number>;

  constructor(d: DagData) {
    this.file = d.file;
    this.size = d.names.length;
    this.names = d.names;
    this.argv = d.argv;
    this.memory = d.memory;
    this.cpus = d.cpus;
    this.gpus = d.gpus;
    this.tries = d.tries;
    this.priority = d.priority;
    this.parentCount = d.parentCount;
    this.childOffsets = d.childOffsets;
    this.childIndex = d.childIndex;
    this.edgeCount = d.childIndex.length;
    this.pegasusIdMap = d.pegasusIds;
    this.pipeMap = d.pipeForwards;
    this.fileMap = d.fileForwards;
    this.index = d.index;
  }

  /** The `#@` id attached to task i, if any. */
  pegasusId(i: number): string | undefined {
    return this.pegasusIdMap.get(i);
  }

  /** `-f VAR=PATH` forwards of task i, as [VAR, PATH]. */
  pipeForwards(i: number): readonly Forward[] {
    return this.pipeMap.get(i) ?? NO_FORWARDS;
  }

  /** `-F SRC=DEST` forwards of task i, as [SRC, DEST]. */
  fileForwards(i: number): readonly Forward[] {
    return this.fileMap.get(i) ?? NO_FORWARDS;
  }

  /** Children of task i (a view into the CSR list: do not modify). */
  children(i: number): Int32Array {
    return this.childIndex.subarray(this.childOffsets[i], this.childOffsets[i + 1]);
  }

  /** Index of the named task, or -1. */
  indexOf(name: string): number {
    return this.index.get(name) ?? -1;
  }
}

/** A task as given to DagBuilder.addTask. */
export interface TaskSpec {
  name: string;
  argv: string[];
  memory?: number;
  cpus?: number;
  gpus?: number;
  /** Attempts; undefined = the builder's default; 0 counts as 1. */
  tries?: number;
  priority?: number;
  pegasusId?: string;
  pipeForwards?: Forward[];
  fileForwards?: Forward[];
}

/** A problem found while building: line = the source line it refers to (0 if none). */
export interface BuildIssue {
  line: number;
  message: string;
}

const MAX_STORED_ISSUES = 10_000;

/**
 * Collects tasks and edges (growable typed arrays, no per-task objects) and checks the
 * graph: duplicate tasks, unknown tasks, self edges, duplicate edges and cycles are reported
 * as issues with the line they come from. `build()` returns the Dag, or undefined when an
 * issue was found (see `issues`).
 */
export class DagBuilder {
  readonly issues: BuildIssue[] = [];
  issueCount = 0;
  private readonly defaultTries: number;
  private n = 0;
  private names: string[] = [];
  private argv: string[][] = [];
  private memory = new Uint32Array(1024);
  private cpus = new Uint32Array(1024);
  private gpus = new Uint32Array(1024);
  private tries = new Int32Array(1024);
  private priority = new Int32Array(1024);
  private pegasusIds = new Map<number, string>();
  private pipeForwards = new Map<number, Forward[]>();
  private fileForwards = new Map<number, Forward[]>();
  private index = new Map<string, number>();
  private ne = 0;
  private edgeParent = new Int32Array(1024);
  private edgeChild = new Int32Array(1024);
  private edgeLine = new Int32Array(1024);

  constructor(opts: { defaultTries?: number } = {}) {
    this.defaultTries = Math.max(1, opts.defaultTries ?? 1);
  }

  get size(): number {
    return this.n;
  }

  issue(line: number, message: string): void {
    this.issueCount++;
    if (this.issues.length < MAX_STORED_ISSUES) this.issues.push({ line, message });
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  /** Adds a task; returns its index, or -1 (and an issue) if the name is taken. */
  addTask(t: TaskSpec, line = 0): number {
    const prev = this.index.get(t.name);
    if (prev !== undefined) {
      this.issue(line, `duplicate task ${t.name} (expected each TASK name once)`);
      return -1;
    }
    const i = this.n;
    if (i === this.memory.length) this.growTasks();
    this.n++;
    this.names.push(t.name);
    this.argv.push(t.argv);
    this.index.set(t.name, i);
    this.memory[i] = t.memory ?? 0;
    this.cpus[i] = t.cpus ?? 1;
    this.gpus[i] = t.gpus ?? 0;
    this.tries[i] = t.tries === undefined ? this.defaultTries : Math.max(1, t.tries);
    this.priority[i] = t.priority ?? 0;
    if (t.pegasusId !== undefined) this.pegasusIds.set(i, t.pegasusId);
    if (t.pipeForwards && t.pipeForwards.length > 0) this.pipeForwards.set(i, t.pipeForwards);
    if (t.fileForwards && t.fileForwards.length > 0) this.fileForwards.set(i, t.fileForwards);
    return i;
  }

  /** Adds an edge between two known task indexes (self edges are reported). */
  addEdgeIndex(parent: number, child: number, line = 0): void {
    if (parent === child) {
      this.issue(
        line,
        `self edge ${this.names[parent]} -> ${this.names[parent]} (expected two different tasks)`,
      );
      return;
    }
    const e = this.ne;
    if (e === this.edgeParent.length) this.growEdges();
    this.edgeParent[e] = parent;
    this.edgeChild[e] = child;
    this.edgeLine[e] = line;
    this.ne++;
  }

  /** Adds an edge by names; unknown names are reported. */
  addEdge(parent: string, child: string, line = 0): void {
    const p = this.index.get(parent);
    const c = this.index.get(child);
    if (p === undefined || c === undefined) {
      const missing = p === undefined ? parent : child;
      this.issue(line, `unknown task ${missing} in EDGE (expected a task defined by an earlier TASK line)`);
      return;
    }
    this.addEdgeIndex(p, c, line);
  }

  /** The Dag, or undefined if any issue was found (then `issues` says why). */
  build(file: string): Dag | undefined {
    const n = this.n;
    const ne = this.ne;
    const childOffsets = new Int32Array(n + 1);
    for (let e = 0; e < ne; e++) childOffsets[this.edgeParent[e] + 1]++;
    for (let i = 0; i < n; i++) childOffsets[i + 1] += childOffsets[i];
    const childIndex = new Int32Array(ne);
    const childEdge = new Int32Array(ne);
    const fill = childOffsets.slice(0, n);
    for (let e = 0; e < ne; e++) {
      const k = fill[this.edgeParent[e]]++;
      childIndex[k] = this.edgeChild[e];
      childEdge[k] = e;
    }
    // Duplicate edges: mark children seen per parent.
    const parentCount = new Int32Array(n);
    const seen = new Int32Array(n).fill(-1);
    for (let p = 0; p < n; p++) {
      for (let k = childOffsets[p]; k < childOffsets[p + 1]; k++) {
        const c = childIndex[k];
        if (seen[c] === p) {
          this.issue(
            this.edgeLine[childEdge[k]],
            `duplicate edge ${this.names[p]} -> ${this.names[c]} (expected each EDGE once)`,
          );
        } else {
          seen[c] = p;
          parentCount[c]++;
        }
      }
    }
    if (this.issueCount === 0) this.checkCycles(childOffsets, childIndex, childEdge, parentCount);
    if (this.issueCount > 0) return undefined;
    const dag = new Dag({
      file,
      names: this.names,
      argv: this.argv,
      memory: this.memory.slice(0, n),
      cpus: this.cpus.slice(0, n),
      gpus: this.gpus.slice(0, n),
      tries: this.tries.slice(0, n),
      priority: this.priority.slice(0, n),
      pegasusIds: this.pegasusIds,
      pipeForwards: this.pipeForwards,
      fileForwards: this.fileForwards,
      index: this.index,
      childOffsets,
      childIndex,
      parentCount,
    });
    this.edgeParent = this.edgeChild = this.edgeLine = new Int32Array(0);
    return dag;
  }

  /** Kahn's algorithm; if some tasks are left, walk back through parents to find one cycle. */
  private checkCycles(
    childOffsets: Int32Array,
    childIndex: Int32Array,
    childEdge: Int32Array,
    parentCount: Int32Array,
  ): void {
    const n = this.n;
    const indeg = parentCount.slice();
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) if (indeg[i] === 0) queue[tail++] = i;
    while (head < tail) {
      const p = queue[head++];
      for (let k = childOffsets[p]; k < childOffsets[p + 1]; k++) {
        if (--indeg[childIndex[k]] === 0) queue[tail++] = childIndex[k];
      }
    }
    if (tail === n) return;
    // Remaining tasks all have a remaining parent: build parent links among them.
    const parentOf = new Int32Array(n).fill(-1);
    const parentEdge = new Int32Array(n).fill(-1);
    for (let p = 0; p < n; p++) {
      if (indeg[p] === 0) continue;
      for (let k = childOffsets[p]; k < childOffsets[p + 1]; k++) {
        const c = childIndex[k];
        if (indeg[c] > 0 && parentOf[c] < 0) {
          parentOf[c] = p;
          parentEdge[c] = childEdge[k];
        }
      }
    }
    let start = 0;
    while (indeg[start] === 0) start++;
    const step = new Int32Array(n).fill(-1);
    let v = start;
    let s = 0;
    while (step[v] < 0) {
      step[v] = s++;
      v = parentOf[v];
    }
    // v is on the cycle; walk it once (backwards), then reverse to parent -> child order.
    const cycle: number[] = [];
    let maxLine = 0;
    let u = v;
    do {
      cycle.push(u);
      maxLine = Math.max(maxLine, this.edgeLine[parentEdge[u]]);
      u = parentOf[u];
    } while (u !== v);
    cycle.reverse();
    const shown =
      cycle.length > 12
        ? [...cycle.slice(0, 12).map((i) => this.names[i]), '...']
        : cycle.map((i) => this.names[i]);
    const text = [...shown, this.names[cycle[0]]].join(' -> ');
    const left = n - tail;
    this.issue(
      maxLine,
      `cycle ${text} (${cycle.length} tasks; ${left} tasks can never run; expected the EDGE lines to form a DAG)`,
    );
  }

  private growTasks(): void {
    const cap = this.memory.length * 2;
    this.memory = growU32(this.memory, cap);
    this.cpus = growU32(this.cpus, cap);
    this.gpus = growU32(this.gpus, cap);
    this.tries = growI32(this.tries, cap);
    this.priority = growI32(this.priority, cap);
  }

  private growEdges(): void {
    const cap = this.edgeParent.length * 2;
    this.edgeParent = growI32(this.edgeParent, cap);
    this.edgeChild = growI32(this.edgeChild, cap);
    this.edgeLine = growI32(this.edgeLine, cap);
  }
}

function growU32(a: Uint32Array, cap: number) {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

function growI32(a: Int32Array, cap: number) {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
