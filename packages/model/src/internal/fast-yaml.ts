/**
 * A line-based reader for the block-style YAML subset that YAML writers produce for Pegasus files
 * (Pegasus's Python API, our own writer): block mappings and sequences, plain / single- / double-
 * quoted one-line scalars, one-line flow sequences and mappings of scalars, comments, `---`/`...`.
 * It builds the same plain JS value as `yaml.parse` (YAML 1.2 core schema) and never holds the
 * whole text: lines are fed one at a time. Anything outside the subset (anchors, aliases, tags,
 * block scalars, multi-line scalars or flows, complex keys, duplicate keys, tabs, several
 * documents, ...) makes it decline with a `YamlSubsetDecline` (line and reason), never mis-parse:
 * the caller then falls back to the `yaml` package.
 */

/** Thrown when the input uses YAML outside the supported subset (or is not valid YAML). */
export class YamlSubsetDecline extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'YamlSubsetDecline';
  }
}

/** Called when an item of a sequence under a key of the root mapping is complete; returns what to keep. */
export type RootItemHook = (key: string, index: number, value: unknown) => unknown;

/** Receives the start of every item of a sequence under a key of the root mapping. */
export interface RootItemSink {
  add(key: string, index: number, line: number, dashColumn: number, byteOffset: number): void;
}

const MAP = 0;
const SEQ = 1;

interface Frame {
  kind: 0 | 1;
  indent: number;
  map: Record<string, unknown> | undefined;
  seq: unknown[] | undefined;
  /** the last key or item waits for its value on the next lines (already set to null) */
  pending: boolean;
  key: string;
  /** for sequences directly under a key of the root mapping: that key */
  rootKey: string | undefined;
}

// YAML 1.2 core schema, in the order the `yaml` package tries its tags.
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const NAN_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** The value of a plain scalar, resolved as the `yaml` package's core schema does. */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // fast path: most scalars start with a letter other than n/N/t/T/f/F
  if (
    (c >= 97 && c <= 122 && c !== 110 && c !== 116 && c !== 102) ||
    (c >= 65 && c <= 90 && c !== 78 && c !== 84 && c !== 70) ||
    c === 95 ||
    c === 47
  ) {
    return s;
  }
  if (NULL_RE.test(s)) return null;
  if (BOOL_RE.test(s)) return c === 116 || c === 84;
  if (OCT_RE.test(s)) return Number.parseInt(s.substring(2), 8);
  if (INT_RE.test(s)) return Number.parseInt(s, 10);
  if (HEX_RE.test(s)) return Number.parseInt(s.substring(2), 16);
  if (NAN_RE.test(s)) {
    if (s.slice(-3).toLowerCase() === 'nan') return Number.NaN;
    return s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (EXP_RE.test(s) || FLOAT_RE.test(s)) return Number.parseFloat(s);
  return s;
}

const isSpaceOrEnd = (s: string, i: number): boolean => i >= s.length || s.charCodeAt(i) === 32;

/** First characters that cannot start a plain scalar (or a plain key) here. */
function badPlainStart(s: string, i: number, flow: boolean): boolean {
  switch (s.charCodeAt(i)) {
    case 38: // &
    case 42: // *
    case 33: // !
    case 124: // |
    case 62: // >
    case 37: // %
    case 64: // @
    case 96: // `
    case 35: // #
    case 91: // [
    case 93: // ]
    case 123: // {
    case 125: // }
    case 44: // ,
    case 39: // '
    case 34: // "
      return true;
    case 45: // -
    case 63: // ?
    case 58: // :
      return isSpaceOrEnd(s, i + 1) || (flow && ',[]{}'.includes(s[i + 1] ?? ''));
    default:
      return false;
  }
}

export class BlockYamlParser {
  private readonly stack: Frame[] = [];
  private readonly recent: (string | undefined)[] = new Array(4096).fill(undefined);
  private root: unknown = null;
  private started = false;
  private docStart = false;
  private ended = false;
  private lineNo = 0;
  /** end position of the last scalar read */
  private pos = 0;

  constructor(
    private readonly hook?: RootItemHook,
    private readonly sink?: RootItemSink,
  ) {}

  /**
   * A string value that does not keep its line (or the read chunk it was cut from) alive: V8
   * copies substrings shorter than 13 characters, longer ones are slices of their parent.
   */
  private own(s: string): string {
    const n = s.length;
    if (n === 0) return s;
    // a small direct-mapped cache: repeated values (shared input files, link types, transformation
    // names, flags...) share one copy instead of one string per occurrence
    let h: number;
    if (n < 13) {
      h = n;
      for (let i = 0; i < n; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
      h &= 4095;
    } else {
      h = (n * 31 + s.charCodeAt(n - 1) * 7 + s.charCodeAt(n >> 1) * 131 + s.charCodeAt(n - 5)) & 4095;
    }
    const seen = this.recent[h];
    if (seen === s) return seen;
    const copy = n < 13 ? s : `\0${s}`.slice(1);
    this.recent[h] = copy;
    return copy;
  }

  private scalar(raw: string): unknown {
    const v = resolvePlain(raw);
    return typeof v === 'string' ? this.own(v) : v;
  }

  private decline(reason: string): never {
    throw new YamlSubsetDecline(this.lineNo, reason);
  }

  /** Feeds one line (without its line break). `byteOffset` is where the line starts in the file. */
  line(text: string, lineNo: number, byteOffset: number): void {
    this.lineNo = lineNo;
    let s = text;
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1);
    let n = 0;
    while (s.charCodeAt(n) === 32) n++;
    if (n === s.length || s.charCodeAt(n) === 35) return; // blank or comment
    if (s.includes('\t')) this.decline('a tab character');
    if (n === 0) {
      const c = s.charCodeAt(0);
      if (s.startsWith('---') && isSpaceOrEnd(s, 3)) {
        if (!this.restIsComment(s, 3)) this.decline('content after "---"');
        if (this.started || this.docStart || this.ended) this.decline('more than one document');
        this.docStart = true;
        return;
      }
      if (s.startsWith('...') && isSpaceOrEnd(s, 3)) {
        if (!this.restIsComment(s, 3)) this.decline('content after "..."');
        this.ended = true;
        return;
      }
      if (c === 37) this.decline('a directive');
    }
    if (this.ended) this.decline('content after the end of the document');
    this.content(s, n, byteOffset);
  }

  /** Ends the input; returns the document's value. */
  end(): unknown {
    this.popTo(-1);
    return this.root;
  }

  private restIsComment(s: string, i: number): boolean {
    let j = i;
    while (s.charCodeAt(j) === 32) j++;
    return j >= s.length || (s.charCodeAt(j) === 35 && j > i);
  }

  private isEntry(s: string, n: number): boolean {
    return s.charCodeAt(n) === 45 && isSpaceOrEnd(s, n + 1);
  }

  private content(s: string, n: number, offset: number): void {
    const stack = this.stack;
    const entry = this.isEntry(s, n);
    if (!this.started) {
      this.started = true;
      this.push(entry ? SEQ : MAP, n, undefined);
      this.root = entry ? stack[0]?.seq : stack[0]?.map;
    } else {
      const top = stack[stack.length - 1];
      if (top?.pending) {
        top.pending = false;
        if (n > top.indent && !entry && this.keyAt(s, n, false) === undefined) {
          // the value on its own, more indented line (`arguments:\n  [-a, b]`)
          let v = this.blockValue(s, n);
          if (top.kind === MAP) {
            if (this.hook && Array.isArray(v) && top === stack[0]) v = this.hookAll(top.key, v);
            (top.map as Record<string, unknown>)[top.key] = v;
          } else (top.seq as unknown[])[(top.seq as unknown[]).length - 1] = v;
          return;
        }
        if (n > top.indent || (top.kind === MAP && n === top.indent && entry)) {
          const rootKey = entry && stack.length === 1 && top.kind === MAP ? top.key : undefined;
          const f = this.push(entry ? SEQ : MAP, n, rootKey);
          const child = entry ? f.seq : f.map;
          if (top.kind === MAP) (top.map as Record<string, unknown>)[top.key] = child;
          else (top.seq as unknown[])[(top.seq as unknown[]).length - 1] = child;
        }
      }
      // close the blocks this line is not part of
      let k = stack.length - 1;
      while (k >= 0) {
        const f = stack[k] as Frame;
        if (f.indent > n || (f.indent === n && f.kind === SEQ && !entry)) k--;
        else break;
      }
      this.popTo(k);
      const top2 = stack[stack.length - 1];
      if (!top2 || top2.indent !== n) this.decline('unexpected indentation (a multi-line scalar?)');
    }
    const f = stack[stack.length - 1] as Frame;
    if (f.kind === SEQ) {
      if (!entry) this.decline('expected a sequence entry');
      this.seqEntry(f, s, n, offset);
    } else {
      if (entry) this.decline('a sequence entry inside a mapping');
      this.mapEntry(f, s, n);
    }
  }

  private push(kind: 0 | 1, indent: number, rootKey: string | undefined): Frame {
    const f: Frame = {
      kind,
      indent,
      map: kind === MAP ? {} : undefined,
      seq: kind === SEQ ? [] : undefined,
      pending: false,
      key: '',
      rootKey,
    };
    this.stack.push(f);
    return f;
  }

  /** Pops frames above index k (k = -1: all). */
  private popTo(k: number): void {
    const stack = this.stack;
    while (stack.length - 1 > k) {
      const f = stack.pop() as Frame;
      if (f.rootKey !== undefined && this.hook) this.finishItem(f);
    }
  }

  private finishItem(f: Frame): void {
    const seq = f.seq as unknown[];
    const i = seq.length - 1;
    if (i >= 0 && this.hook) seq[i] = this.hook(f.rootKey as string, i, seq[i]);
  }

  private seqEntry(f: Frame, s: string, n: number, offset: number): void {
    const seq = f.seq as unknown[];
    if (f.rootKey !== undefined) {
      if (this.hook) this.finishItem(f);
      this.sink?.add(f.rootKey, seq.length, this.lineNo, n, offset);
    }
    let i = n + 1;
    while (s.charCodeAt(i) === 32) i++;
    if (i >= s.length || s.charCodeAt(i) === 35) {
      seq.push(null);
      f.pending = true;
      return;
    }
    if (this.isEntry(s, i)) this.decline('a nested compact sequence ("- -")');
    const key = this.keyAt(s, i, false);
    if (key !== undefined) {
      const m = this.push(MAP, i, undefined);
      seq.push(m.map);
      this.setValue(m, key, s, this.pos);
      return;
    }
    seq.push(this.blockValue(s, i));
  }

  private mapEntry(f: Frame, s: string, n: number): void {
    const key = this.keyAt(s, n, true);
    if (key === undefined) this.decline('expected "key: value"');
    this.setValue(f, key, s, this.pos);
  }

  /** Stores `key: <rest of line from p>` into mapping frame f. */
  private setValue(f: Frame, key: string, s: string, p: number): void {
    const map = f.map as Record<string, unknown>;
    if (key === '__proto__') this.decline('the key "__proto__"');
    if (Object.hasOwn(map, key)) this.decline(`duplicate key "${key}"`);
    let i = p;
    while (s.charCodeAt(i) === 32) i++;
    if (i >= s.length || s.charCodeAt(i) === 35) {
      map[key] = null;
      f.pending = true;
      f.key = key;
      return;
    }
    const v = this.blockValue(s, i);
    map[key] = this.hook && Array.isArray(v) && f === this.stack[0] ? this.hookAll(key, v) : v;
  }

  private hookAll(key: string, v: unknown[]): unknown[] {
    const hook = this.hook as RootItemHook;
    for (let k = 0; k < v.length; k++) v[k] = hook(key, k, v[k]);
    return v;
  }

  /**
   * If a mapping key starts at i, returns it and sets this.pos after the ":". Otherwise returns
   * undefined (or declines when `must`).
   */
  private keyAt(s: string, i: number, must: boolean): string | undefined {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 39) {
      const v = c === 34 ? this.doubleQuoted(s, i) : this.singleQuoted(s, i);
      let j = this.pos;
      while (s.charCodeAt(j) === 32) j++;
      if (s.charCodeAt(j) === 58 && isSpaceOrEnd(s, j + 1)) {
        this.pos = j + 1;
        return v;
      }
      if (must) this.decline('expected ":" after a quoted key');
      return undefined;
    }
    if (c === 63 && isSpaceOrEnd(s, i + 1)) this.decline('a complex key ("?")');
    if (badPlainStart(s, i, false)) {
      if (must) this.decline(`a key starting with "${s[i]}"`);
      return undefined;
    }
    const len = s.length;
    for (let j = i; j < len; j++) {
      const cj = s.charCodeAt(j);
      if (cj === 58 && (j + 1 === len || s.charCodeAt(j + 1) === 32)) {
        let e = j;
        while (e > i && s.charCodeAt(e - 1) === 32) e--;
        const raw = s.slice(i, e);
        if (raw.length > 1000) this.decline('a key over 1000 characters');
        const v = resolvePlain(raw);
        if (typeof v !== 'string') this.decline(`the non-string key ${raw}`);
        this.pos = j + 1;
        return v;
      }
      if (cj === 35 && s.charCodeAt(j - 1) === 32) break; // a comment starts
    }
    if (must) this.decline('expected "key: value"');
    return undefined;
  }

  /** A value that must fill the rest of the line (up to a comment). */
  private blockValue(s: string, i: number): unknown {
    const c = s.charCodeAt(i);
    let v: unknown;
    if (c === 34) v = this.own(this.doubleQuoted(s, i));
    else if (c === 39) v = this.own(this.singleQuoted(s, i));
    else if (c === 91) v = this.flowSeq(s, i);
    else if (c === 123) v = this.flowMap(s, i);
    else {
      if (badPlainStart(s, i, false)) this.decline(`a value starting with "${s[i]}"`);
      let e = s.length;
      const h = s.indexOf(' #', i);
      if (h !== -1) e = h;
      while (e > i && s.charCodeAt(e - 1) === 32) e--;
      const raw = s.slice(i, e);
      if (raw.includes(': ') || raw.charCodeAt(raw.length - 1) === 58) this.decline('a mapping in a value');
      return this.scalar(raw);
    }
    if (!this.restIsCommentOrEnd(s, this.pos)) this.decline('text after a quoted or flow value');
    return v;
  }

  private restIsCommentOrEnd(s: string, i: number): boolean {
    let j = i;
    while (s.charCodeAt(j) === 32) j++;
    return j >= s.length || (s.charCodeAt(j) === 35 && j > i);
  }

  private doubleQuoted(s: string, i: number): string {
    let out = '';
    let start = i + 1;
    let j = start;
    const len = s.length;
    for (;;) {
      if (j >= len) this.decline('a multi-line double-quoted scalar');
      const c = s.charCodeAt(j);
      if (c === 34) {
        out += s.slice(start, j);
        this.pos = j + 1;
        return out;
      }
      if (c === 92) {
        out += s.slice(start, j);
        const e = s[j + 1];
        j += 2;
        switch (e) {
          case '0':
            out += '\0';
            break;
          case 'a':
            out += '\x07';
            break;
          case 'b':
            out += '\b';
            break;
          case 't':
            out += '\t';
            break;
          case 'n':
            out += '\n';
            break;
          case 'v':
            out += '\v';
            break;
          case 'f':
            out += '\f';
            break;
          case 'r':
            out += '\r';
            break;
          case 'e':
            out += '\x1b';
            break;
          case ' ':
            out += ' ';
            break;
          case '"':
            out += '"';
            break;
          case '/':
            out += '/';
            break;
          case '\\':
            out += '\\';
            break;
          case 'N':
            out += '\u0085';
            break;
          case '_':
            out += '\u00a0';
            break;
          case 'L':
            out += '\u2028';
            break;
          case 'P':
            out += '\u2029';
            break;
          case 'x':
          case 'u':
          case 'U': {
            const w = e === 'x' ? 2 : e === 'u' ? 4 : 8;
            const hex = s.slice(j, j + w);
            if (hex.length !== w || !/^[0-9a-fA-F]+$/.test(hex)) this.decline('a bad escape');
            const cp = Number.parseInt(hex, 16);
            if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.decline('a bad escape');
            out += String.fromCodePoint(cp);
            j += w;
            break;
          }
          default:
            this.decline('an unsupported escape');
        }
        start = j;
        continue;
      }
      j++;
    }
  }

  private singleQuoted(s: string, i: number): string {
    let out = '';
    let start = i + 1;
    for (;;) {
      const q = s.indexOf("'", start);
      if (q === -1) this.decline('a multi-line single-quoted scalar');
      out += s.slice(start, q);
      if (s.charCodeAt(q + 1) === 39) {
        out += "'";
        start = q + 2;
        continue;
      }
      this.pos = q + 1;
      return out;
    }
  }

  /** A quoted or plain scalar inside a one-line flow collection; sets this.pos after it. */
  private flowScalar(s: string, i: number, inMap: boolean): unknown {
    const c = s.charCodeAt(i);
    if (c === 34) return this.own(this.doubleQuoted(s, i));
    if (c === 39) return this.own(this.singleQuoted(s, i));
    if (badPlainStart(s, i, true)) this.decline(`a flow value starting with "${s[i] ?? 'end of line'}"`);
    let j = i;
    const len = s.length;
    for (; j < len; j++) {
      const cj = s.charCodeAt(j);
      if (cj === 44 || cj === 93 || cj === 125 || cj === 91 || cj === 123) break;
      if (cj === 58 && (j + 1 === len || ' ,[]{}'.includes(s[j + 1] as string))) {
        if (!inMap) this.decline('a mapping inside a flow sequence');
        break;
      }
      if (cj === 35 && s.charCodeAt(j - 1) === 32) this.decline('a comment inside a flow collection');
    }
    let e = j;
    while (e > i && s.charCodeAt(e - 1) === 32) e--;
    this.pos = j;
    return this.scalar(s.slice(i, e));
  }

  private skip(s: string, i: number): number {
    let j = i;
    while (s.charCodeAt(j) === 32) j++;
    return j;
  }

  private flowSeq(s: string, i: number): unknown[] {
    const out: unknown[] = [];
    let j = this.skip(s, i + 1);
    if (s.charCodeAt(j) === 93) {
      this.pos = j + 1;
      return out;
    }
    for (;;) {
      if (j >= s.length) this.decline('a multi-line flow sequence');
      const c = s.charCodeAt(j);
      if (c === 91 || c === 123) this.decline('a nested flow collection');
      out.push(this.flowScalar(s, j, false));
      j = this.skip(s, this.pos);
      const d = s.charCodeAt(j);
      if (d === 93) {
        this.pos = j + 1;
        return out;
      }
      if (d !== 44) this.decline('a multi-line or malformed flow sequence');
      j = this.skip(s, j + 1);
      if (s.charCodeAt(j) === 93) {
        this.pos = j + 1;
        return out;
      }
    }
  }

  private flowMap(s: string, i: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let j = this.skip(s, i + 1);
    if (s.charCodeAt(j) === 125) {
      this.pos = j + 1;
      return out;
    }
    for (;;) {
      if (j >= s.length) this.decline('a multi-line flow mapping');
      const c = s.charCodeAt(j);
      if (c === 91 || c === 123 || c === 63) this.decline('a complex flow key');
      const k = this.flowScalar(s, j, true);
      if (typeof k !== 'string') this.decline('a non-string key');
      if (k === '__proto__') this.decline('the key "__proto__"');
      if (Object.hasOwn(out, k)) this.decline(`duplicate key "${k}"`);
      j = this.skip(s, this.pos);
      if (s.charCodeAt(j) !== 58 || !isSpaceOrEnd(s, j + 1)) this.decline('a flow key without ": value"');
      j = this.skip(s, j + 1);
      const v = s.charCodeAt(j);
      if (j >= s.length || v === 44 || v === 125 || v === 91 || v === 123)
        this.decline('an empty or nested flow value');
      out[k] = this.flowScalar(s, j, false);
      j = this.skip(s, this.pos);
      const d = s.charCodeAt(j);
      if (d === 125) {
        this.pos = j + 1;
        return out;
      }
      if (d !== 44) this.decline('a multi-line or malformed flow mapping');
      j = this.skip(s, j + 1);
      if (s.charCodeAt(j) === 125) {
        this.pos = j + 1;
        return out;
      }
    }
  }
}

/** Parses YAML text with the fast reader; throws YamlSubsetDecline outside the subset. */
export function parseYamlSubset(text: string, hook?: RootItemHook, sink?: RootItemSink): unknown {
  const p = new BlockYamlParser(hook, sink);
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let no = 1;
  const len = text.length;
  while (start <= len) {
    let e = text.indexOf('\n', start);
    if (e === -1) e = len;
    p.line(text.slice(start, e), no++, start);
    start = e + 1;
  }
  return p.end();
}
