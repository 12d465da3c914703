/**
 * The PMC DAG file format: parse (with every problem reported as FILE:LINE), load, write back,
 * and generate test DAGs. See README.md "DAG file format".
 */
import { LineReader } from '@pegasus-ts/io';
import { type Dag, DagBuilder, type Forward } from './dag.js';
import { annotationLine, edgeLine, isTaskOption, parseAnnotation, taskLine } from './dag-format.js';
import { DagError, UserError } from './errors.js';
import { quoteArg, splitArgs } from './split-args.js';

export interface ParseDagOptions {
  /** Attempts for tasks without `-t` (PMC's global `-t`, default 1). */
  defaultTries: number;
}

const MAX_U32 = 0xffffffff;
const MAX_I32 = 0x7fffffff;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;

/** Line-by-line parser; feed lines in order, then finish(). */
class DagParser {
  private readonly builder: DagBuilder;
  private pegasusId: string | undefined;
  /** The previous task's argv: an identical command reuses the same array (saves memory). */
  private prevArgv: string[] = [];

  constructor(
    private readonly file: string,
    opts: ParseDagOptions,
  ) {
    this.builder = new DagBuilder({ defaultTries: opts.defaultTries });
  }

  line(raw: string, lineNo: number): void {
    // PMC trims space, tab, CR and LF only.
    let s = 0;
    let e = raw.length;
    while (s < e && isTrim(raw.charCodeAt(s))) s++;
    while (e > s && isTrim(raw.charCodeAt(e - 1))) e--;
    if (s === e) return;
    const c0 = raw.charCodeAt(s);
    if (c0 === 0x23 /* # */) {
      if (raw.charCodeAt(s + 1) === 0x40 /* @ */) this.annotation(raw.slice(s, e), lineNo);
      return;
    }
    if (raw.startsWith('TASK', s) && (s + 4 === e || isField(raw.charCodeAt(s + 4)))) {
      this.task(raw, s + 4, e, lineNo);
    } else if (raw.startsWith('EDGE', s) && (s + 4 === e || isField(raw.charCodeAt(s + 4)))) {
      this.edge(raw.slice(s + 4, e), lineNo);
    } else {
      const word = raw.slice(s, e).split(/[ \t]/, 1)[0];
      const shown = word.length > 40 ? `${word.slice(0, 40)}...` : word;
      this.builder.issue(
        lineNo,
        `invalid record "${shown}" (expected TASK, EDGE, a #@ annotation or a # comment)`,
      );
    }
  }

  private task(raw: string, s: number, e: number, lineNo: number): void {
    const b = this.builder;
    while (s < e && isField(raw.charCodeAt(s))) s++;
    let ne = s;
    while (ne < e && !isField(raw.charCodeAt(ne))) ne++;
    const name = raw.slice(s, ne);
    const id = this.pegasusId;
    this.pegasusId = undefined;
    if (name.length === 0) {
      b.issue(lineNo, 'TASK without a name (expected TASK NAME [OPTIONS] EXECUTABLE [ARGS])');
      return;
    }
    const args = splitArgs(raw.slice(ne, e));
    let memory: number | undefined;
    let cpus: number | undefined;
    let gpus: number | undefined;
    let tries: number | undefined;
    let priority: number | undefined;
    let pipes: Forward[] | undefined;
    let files: Forward[] | undefined;
    let k = 0;
    let bad = false;
    const err = (m: string) => {
      b.issue(lineNo, `task ${name}: ${m}`);
      bad = true;
    };
    while (k < args.length && args[k].charCodeAt(0) === 0x2d /* - */) {
      const opt = args[k++];
      const known = isTaskOption(opt);
      if (!known) {
        err(
          `unknown option ${opt} (expected -m/--request-memory, -c/--request-cpus, -g/--request-gpus, -t/--tries, -p/--priority, -f/--pipe-forward or -F/--file-forward before the executable)`,
        );
        continue;
      }
      if (k >= args.length) {
        err(`option ${opt} needs a value`);
        break;
      }
      const v = args[k++];
      switch (opt) {
        case '-m':
        case '--request-memory': {
          const x = parseSize(v);
          if (x === undefined) err(`invalid ${opt} value "${v}" (expected a number of MB >= 0)`);
          else memory = x;
          break;
        }
        case '-c':
        case '--request-cpus': {
          const x = parseSize(v);
          if (x === undefined) err(`invalid ${opt} value "${v}" (expected a number of CPUs >= 0)`);
          else cpus = x;
          break;
        }
        case '-g':
        case '--request-gpus': {
          const x = parseSize(v);
          if (x === undefined) err(`invalid ${opt} value "${v}" (expected a number of GPUs >= 0)`);
          else gpus = x;
          break;
        }
        case '-t':
        case '--tries': {
          const x = parseInt32(v);
          if (x === undefined || x < 0) err(`invalid ${opt} value "${v}" (expected an integer >= 0)`);
          else tries = x;
          break;
        }
        case '-p':
        case '--priority': {
          const x = parseInt32(v);
          if (x === undefined) err(`invalid ${opt} value "${v}" (expected an integer)`);
          else priority = x;
          break;
        }
        case '-f':
        case '--pipe-forward': {
          const f = splitForward(v);
          if (!f) err(`invalid ${opt} value "${v}" (expected VAR=PATH)`);
          else pipes = setForward(pipes, f);
          break;
        }
        default: {
          const f = splitForward(v);
          if (!f) err(`invalid ${opt} value "${v}" (expected SRC=DEST)`);
          else files = setForward(files, f);
        }
      }
    }
    if (!bad) {
      if (k >= args.length) err('no executable (expected TASK NAME [OPTIONS] EXECUTABLE [ARGS])');
      else if (args[k].length === 0)
        err('empty executable name (expected EXECUTABLE [ARGS] after the options)');
    }
    if (bad) {
      // Still reserve the name, so that EDGE lines using it do not pile up more errors.
      if (!b.has(name)) b.addTask({ name, argv: [] }, lineNo);
      return;
    }
    b.addTask(
      {
        name,
        argv: this.share(k === 0 ? args : args.slice(k)),
        memory,
        cpus,
        gpus,
        tries,
        priority,
        pegasusId: id,
        pipeForwards: pipes,
        fileForwards: files,
      },
      lineNo,
    );
  }

  private share(argv: string[]): string[] {
    const prev = this.prevArgv;
    if (prev.length === argv.length) {
      let same = true;
      for (let i = 0; i < argv.length; i++) {
        if (prev[i] !== argv[i]) {
          same = false;
          break;
        }
      }
      if (same) return prev;
    }
    this.prevArgv = argv;
    return argv;
  }

  private edge(rest: string, lineNo: number): void {
    const f = fields(rest);
    if (f.length !== 2) {
      this.builder.issue(
        lineNo,
        `EDGE with ${f.length} task name${f.length === 1 ? '' : 's'} (expected EDGE PARENT CHILD)`,
      );
      return;
    }
    this.builder.addEdge(f[0], f[1], lineNo);
  }

  private annotation(line: string, lineNo: number): void {
    const a = parseAnnotation(line);
    if (!a) {
      this.builder.issue(lineNo, 'invalid #@ annotation (expected "#@ TASKID TRANSFORMATION DAXID")');
      return;
    }
    this.pegasusId = a.taskId;
  }

  finish(): Dag {
    const dag = this.builder.build(this.file);
    if (!dag) {
      throw DagError.fromIssues(
        this.builder.issues.map((i) => ({ file: this.file, line: i.line, message: i.message })),
        this.builder.issueCount,
      );
    }
    return dag;
  }
}

function isTrim(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** PMC's field delimiters " \t\n\r". */
function isField(c: number): boolean {
  return isTrim(c);
}

function fields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && isField(s.charCodeAt(i))) i++;
    if (i >= n) break;
    const st = i;
    while (i < n && !isField(s.charCodeAt(i))) i++;
    out.push(s.slice(st, i));
  }
  return out;
}

/** A non-negative decimal number, rounded up to an integer that fits in 32 bits. */
function parseSize(v: string): number | undefined {
  if (!FLOAT_RE.test(v)) return undefined;
  const x = Math.ceil(Number(v));
  if (!Number.isFinite(x) || x < 0 || x > MAX_U32) return undefined;
  return x;
}

function parseInt32(v: string): number | undefined {
  if (!INT_RE.test(v)) return undefined;
  const x = Number(v);
  if (x > MAX_I32 || x < -MAX_I32 - 1) return undefined;
  return x;
}

function splitForward(v: string): Forward | undefined {
  const eq = v.indexOf('=');
  if (eq <= 0 || eq === v.length - 1) return undefined;
  return [v.slice(0, eq), v.slice(eq + 1)];
}

/** PMC keeps forwards in a map: a repeated key replaces the earlier value. */
function setForward(list: Forward[] | undefined, f: Forward): Forward[] {
  const l = list ?? [];
  const at = l.findIndex((x) => x[0] === f[0]);
  if (at >= 0) l[at] = f;
  else l.push(f);
  return l;
}

/** Parses the text of a DAG file; throws DagError listing every problem found. */
export function parseDag(text: string, file: string, opts: ParseDagOptions): Dag {
  const p = new DagParser(file, opts);
  let start = 0;
  let lineNo = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    p.line(text.slice(start, end), ++lineNo);
    start = end + 1;
  }
  return p.finish();
}

/** Reads and parses a DAG file (line by line, so its size is not limited by V8's string size). */
export async function loadDag(path: string, opts: ParseDagOptions): Promise<Dag> {
  const p = new DagParser(path, opts);
  let reader: LineReader | undefined;
  try {
    reader = new LineReader(path);
    for (let line = reader.next(); line !== undefined; line = reader.next()) p.line(line, reader.lineNo);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code !== 'string') throw e;
    throw new UserError(`${path}: cannot read DAG file: ${describeFsError(err)}`, {
      file: path,
    });
  } finally {
    reader?.close();
  }
  return p.finish();
}

export interface FormatDagOptions {
  /** The default tries the file will be read with: `-t` is written for tasks that differ. */
  defaultTries?: number;
}

/** Writes a Dag in PMC format: the TASK lines (with #@ ids), a blank line, the EDGE lines. */
export function formatDag(dag: Dag, opts: FormatDagOptions = {}): string {
  const defTries = Math.max(1, opts.defaultTries ?? 1);
  const out: string[] = [];
  for (let i = 0; i < dag.size; i++) {
    const id = dag.pegasusId(i);
    if (id !== undefined) out.push(annotationLine(id, '-', '-'));
    try {
      out.push(
        taskLine({
          name: dag.names[i],
          memory: dag.memory[i] !== 0 ? dag.memory[i] : undefined,
          cpus: dag.cpus[i] !== 1 ? dag.cpus[i] : undefined,
          gpus: dag.gpus[i] !== 0 ? dag.gpus[i] : undefined,
          tries: dag.tries[i] !== defTries ? dag.tries[i] : undefined,
          priority: dag.priority[i] !== 0 ? dag.priority[i] : undefined,
          pipeForwards: dag.pipeForwards(i),
          fileForwards: dag.fileForwards(i),
          argv: dag.argv[i],
        }),
      );
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  if (dag.edgeCount > 0) out.push('');
  for (let p = 0; p < dag.size; p++) {
    for (let k = dag.childOffsets[p]; k < dag.childOffsets[p + 1]; k++) {
      out.push(edgeLine(dag.names[p], dag.names[dag.childIndex[k]]));
    }
  }
  out.push('');
  return out.join('\n');
}

export type DagShape = 'independent' | 'chains' | 'diamonds' | 'fan';

export interface GenerateDagOptions {
  tasks: number;
  /**
   * independent: no edges; chains: chains of `chainLength` tasks (default 10);
   * diamonds: groups of 4 (A -> B, A -> C, B -> D, C -> D); fan: t0 -> every middle task ->
   * the last task.
   */
  shape: DagShape;
  /** argv of every task (quoted as needed). */
  command: string[];
  chainLength?: number;
}

/** Generates PMC DAG text with tasks t0..t{N-1}, for benchmarks and tests. */
export function generateDag(opts: GenerateDagOptions): string {
  const n = opts.tasks;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`generateDag: bad task count ${n}`);
  if (opts.command.length === 0) throw new RangeError('generateDag: empty command');
  const cmd = opts.command.map(quoteArg).join(' ');
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`TASK t${i} ${cmd}`);
  out.push('');
  switch (opts.shape) {
    case 'independent':
      break;
    case 'chains': {
      const len = opts.chainLength ?? 10;
      if (!Number.isInteger(len) || len < 1) throw new RangeError(`generateDag: bad chainLength ${len}`);
      for (let i = 1; i < n; i++) if (i % len !== 0) out.push(`EDGE t${i - 1} t${i}`);
      break;
    }
    case 'diamonds':
      for (let g = 0; g < n; g += 4) {
        const [a, b, c, d] = [g, g + 1, g + 2, g + 3];
        if (b < n) out.push(`EDGE t${a} t${b}`);
        if (c < n) out.push(`EDGE t${a} t${c}`);
        if (d < n) out.push(`EDGE t${b} t${d}`, `EDGE t${c} t${d}`);
      }
      break;
    case 'fan':
      if (n === 2) out.push('EDGE t0 t1');
      for (let i = 1; i < n - 1; i++) out.push(`EDGE t0 t${i}`);
      for (let i = 1; i < n - 1; i++) out.push(`EDGE t${i} t${n - 1}`);
      break;
    default:
      throw new RangeError(`generateDag: unknown shape ${String(opts.shape)}`);
  }
  return out.join('\n');
}

/** "no such file or directory" from "ENOENT: no such file or directory, open 'x'". */
function describeFsError(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return m ? m[1] : err.message;
}
