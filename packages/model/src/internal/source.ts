import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Issue } from '../errors.js';

/** A path into a YAML document: map keys and sequence indices. */
export type Path = readonly (string | number)[];

/** Positions in one input file, resolved only when a problem is reported. */
export interface Source {
  readonly file: string;
  /** 1-based line and column of the value at `path` (or of its key when `onKey`). */
  locate(path: Path, onKey?: boolean): { line: number; column: number };
  issue(path: Path, message: string, onKey?: boolean): Issue;
}

/**
 * The text of one input file. Positions are resolved lazily: the fast path parses with
 * `yaml.parse`; only when a problem must be reported is the document re-parsed with a LineCounter.
 */
export class SourceText implements Source {
  private doc: ReturnType<typeof parseDocument> | undefined;
  private lc: LineCounter | undefined;
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  private ensure(): { doc: ReturnType<typeof parseDocument>; lc: LineCounter } {
    if (!this.doc || !this.lc) {
      this.lc = new LineCounter();
      this.doc = parseDocument(this.text, { lineCounter: this.lc, keepSourceTokens: false });
    }
    return { doc: this.doc, lc: this.lc };
  }

  /** Every YAML syntax error of the text, positioned. */
  syntaxIssues(): Issue[] {
    const { doc } = this.ensure();
    return doc.errors.map((e) => ({
      file: this.file,
      line: e.linePos?.[0].line ?? 1,
      column: e.linePos?.[0].col ?? 1,
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
    }));
  }

  /** 1-based line and column of the value at `path` (or of its key when `onKey`). */
  locate(path: Path, onKey = false): { line: number; column: number } {
    const { doc, lc } = this.ensure();
    let node: unknown = doc.contents;
    let keyNode: unknown;
    let last: unknown = node;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyValue(p.key) === String(seg));
        if (!pair) break;
        keyNode = pair.key;
        last = pair.value ?? pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        keyNode = undefined;
        node = node.items[seg];
        last = node;
      } else break;
    }
    const target = (onKey && keyNode ? keyNode : last) as Node | undefined;
    const offset = target?.range?.[0] ?? 0;
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  }

  issue(path: Path, message: string, onKey = false): Issue {
    return { file: this.file, ...this.locate(path, onKey), message };
  }
}

function keyValue(k: unknown): string | undefined {
  if (isScalar(k)) return String(k.value);
  if (typeof k === 'string') return k;
  return undefined;
}

/** Where a model object came from (set by the loaders; absent for objects built in code). */
export interface Origin {
  source: Source;
  path: Path;
}

// Kept on the object itself under a non-enumerable symbol (invisible to keys, spread, JSON and
// deep equality): a WeakMap of millions of entries costs far more memory and GC time.
const ORIGIN = Symbol('pegasus-ts.origin');

export function setOrigin(obj: object, source: Source, path: Path): void {
  Object.defineProperty(obj, ORIGIN, { value: { source, path }, writable: true, configurable: true });
}

/** The origin of item `index` of the document's top-level list `key`: no path array kept. */
class ItemOrigin implements Origin {
  constructor(
    readonly source: Source,
    private readonly key: string,
    private readonly index: number,
  ) {}
  get path(): Path {
    return [this.key, this.index];
  }
}

/** Sets the origin of `obj` to item `index` of the document's top-level list `key`. */
export function setItemOrigin(obj: object, source: Source, key: string, index: number): void {
  Object.defineProperty(obj, ORIGIN, {
    value: new ItemOrigin(source, key, index),
    writable: true,
    configurable: true,
  });
}

/** The origin of an item of a parent object's list: 3 fields instead of a copied path. */
class ChildOrigin implements Origin {
  constructor(
    private readonly parent: Origin,
    private readonly key: string,
    private readonly index: number,
  ) {}
  get source(): Source {
    return this.parent.source;
  }
  get path(): Path {
    return [...this.parent.path, this.key, this.index];
  }
}

// A file use keeps only its job (no origin object of its own): its origin is resolved on demand.
const USE_OF = Symbol('pegasus-ts.use-of');

/** Sets the origin of `use` to its item of `job.uses` (when the job has an origin). */
export function setUseOrigin(use: object, job: { uses: readonly object[] }): void {
  Object.defineProperty(use, USE_OF, { value: job, writable: true, configurable: true });
}

export function originOf(obj: object): Origin | undefined {
  const o = (obj as { [ORIGIN]?: Origin })[ORIGIN];
  if (o !== undefined) return o;
  const job = (obj as { [USE_OF]?: { uses: readonly object[] } })[USE_OF];
  if (job === undefined) return undefined;
  const p = originOf(job);
  const index = job.uses.indexOf(obj);
  return p && index >= 0 ? new ChildOrigin(p, 'uses', index) : undefined;
}

/** An issue about a model object (or one of its keys), positioned when the object was loaded. */
export function issueAt(obj: object, sub: Path, message: string, fallbackFile: string, onKey = false): Issue {
  const o = originOf(obj);
  if (!o) return { file: fallbackFile, line: 0, column: 0, message };
  return o.source.issue([...o.path, ...sub], message, onKey);
}
