import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Issue } from '../errors.js';

/** A path into a YAML document: map keys and sequence indices. */
export type Path = readonly (string | number)[];

/**
 * The text of one input file. Positions are resolved lazily: the fast path parses with
 * `yaml.parse`; only when a problem must be reported is the document re-parsed with a LineCounter.
 */
export class SourceText {
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
  source: SourceText;
  path: Path;
}

const origins = new WeakMap<object, Origin>();

export function setOrigin(obj: object, source: SourceText, path: Path): void {
  origins.set(obj, { source, path });
}

export function originOf(obj: object): Origin | undefined {
  return origins.get(obj);
}

/** An issue about a model object (or one of its keys), positioned when the object was loaded. */
export function issueAt(obj: object, sub: Path, message: string, fallbackFile: string, onKey = false): Issue {
  const o = origins.get(obj);
  if (!o) return { file: fallbackFile, line: 0, column: 0, message };
  return o.source.issue([...o.path, ...sub], message, onKey);
}
