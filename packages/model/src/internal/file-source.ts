import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Issue } from '../errors.js';
import type { RootItemSink } from './fast-yaml.js';
import { type Path, type Source, SourceText } from './source.js';

/** Where each item of the sequences under the root mapping's keys starts: compact typed arrays. */
export class ItemIndex implements RootItemSink {
  readonly keys = new Map<string, ItemStarts>();
  add(key: string, index: number, line: number, dashColumn: number, byteOffset: number): void {
    let s = this.keys.get(key);
    if (!s) {
      s = new ItemStarts();
      this.keys.set(key, s);
    }
    s.push(index, line, dashColumn, byteOffset);
  }
}

class ItemStarts {
  n = 0;
  lines = new Int32Array(16);
  cols = new Int32Array(16);
  offsets = new Float64Array(16);
  push(index: number, line: number, col: number, offset: number): void {
    if (index !== this.n) return; // items are reported in order, once
    if (this.n === this.lines.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.lines = grow(this.lines);
      this.cols = grow(this.cols);
      this.offsets = grow(this.offsets);
    }
    this.lines[this.n] = line;
    this.cols[this.n] = col;
    this.offsets[this.n] = offset;
    this.n++;
  }
}

/** Reads lines of a file synchronously from a byte offset (for error positions only). */
function* linesFrom(file: string, offset: number): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    const dec = new StringDecoder('utf8');
    let pos = offset;
    let carry = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      const str = carry + dec.write(buf.subarray(0, n));
      let start = 0;
      for (let e = str.indexOf('\n'); e !== -1; e = str.indexOf('\n', start)) {
        yield str.slice(start, e);
        start = e + 1;
      }
      carry = str.slice(start);
    }
    yield carry + dec.end();
  } finally {
    closeSync(fd);
  }
}

const indentOf = (s: string): number => {
  let n = 0;
  while (s.charCodeAt(n) === 32) n++;
  return n;
};
const isBlankOrComment = (s: string, n: number): boolean =>
  n >= s.length || s.charCodeAt(n) === 35 || (n === s.length - 1 && s.charCodeAt(n) === 13);

/**
 * Positions in a file read by the streaming reader, found again only when a problem is reported:
 * a path into an item of a top-level sequence (`jobs[i]...`) re-reads that item alone from its
 * byte offset; anything else re-reads the file without the bodies of those items (a skeleton).
 * Neither the text nor a position map of the whole file is kept.
 */
export class FileSource implements Source {
  private skeletonCache: { text: SourceText; lines: number[] } | undefined;
  constructor(
    readonly file: string,
    private readonly index: ItemIndex,
  ) {}

  locate(path: Path, onKey = false): { line: number; column: number } {
    const [k, i] = path;
    if (typeof k === 'string' && typeof i === 'number') {
      const s = this.index.keys.get(k);
      if (s && i < s.n) {
        return this.locateInItem(
          s.lines[i] as number,
          s.cols[i] as number,
          s.offsets[i] as number,
          path.slice(2),
          onKey,
        );
      }
    }
    const sk = this.skeleton();
    const p = sk.text.locate(path, onKey);
    return { line: sk.lines[p.line - 1] ?? p.line, column: p.column };
  }

  issue(path: Path, message: string, onKey = false): Issue {
    return { file: this.file, ...this.locate(path, onKey), message };
  }

  private locateInItem(
    line: number,
    col: number,
    offset: number,
    rest: Path,
    onKey: boolean,
  ): { line: number; column: number } {
    const out: string[] = [];
    for (const l of linesFrom(this.file, offset)) {
      const n = indentOf(l);
      if (out.length > 0 && !isBlankOrComment(l, n) && n <= col) break;
      out.push(n >= col ? l.slice(col) : '');
    }
    const p = new SourceText(this.file, out.join('\n')).locate([0, ...rest], onKey);
    return { line: p.line + line - 1, column: p.column + col };
  }

  private skeleton(): { text: SourceText; lines: number[] } {
    if (this.skeletonCache) return this.skeletonCache;
    const starts = [...this.index.keys.values()].filter((s) => s.n > 0);
    const next = starts.map(() => 0);
    const kept: string[] = [];
    const lines: number[] = [];
    let skipCol = -1;
    let no = 0;
    for (const l of linesFrom(this.file, 0)) {
      no++;
      let itemCol = -1;
      let first = false;
      for (let k = 0; k < starts.length; k++) {
        const s = starts[k] as ItemStarts;
        const j = next[k] as number;
        if (j < s.n && s.lines[j] === no) {
          itemCol = s.cols[j] as number;
          first = j === 0;
          next[k] = j + 1;
        }
      }
      if (itemCol >= 0) {
        skipCol = itemCol;
        if (first) {
          const c = indentOf(l.slice(itemCol + 1)) + itemCol + 1;
          kept.push(`${' '.repeat(itemCol)}-${' '.repeat(Math.max(1, c - itemCol - 1))}~`);
          lines.push(no);
        }
        continue;
      }
      if (skipCol >= 0) {
        const n = indentOf(l);
        if (isBlankOrComment(l, n) || n > skipCol) continue;
        skipCol = -1;
      }
      kept.push(l);
      lines.push(no);
    }
    this.skeletonCache = { text: new SourceText(this.file, kept.join('\n')), lines };
    return this.skeletonCache;
  }
}
