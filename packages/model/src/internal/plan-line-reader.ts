import { parse as parseYaml } from 'yaml';
import { PLAIN_CHAR, parseFlowValue, RESERVED, UNSUPPORTED } from './flow-value.js';

/** What the line reader hands over, in file order, before any validation. */
export interface RawPlanOut {
  /** the header's fields and the line of each; once, at `jobs:`/`edges:` or at the end */
  header(fields: Record<string, unknown>, lines: Record<string, number>): void;
  /** one job's fields, once the job's last line is read */
  job(fields: Record<string, unknown>, line: number): void;
  edge(value: unknown, line: number): void;
  /** a value that is not YAML: FILE:LINE and what */
  fail(line: number, what: string): never;
}

/**
 * Reads plan.yml in the planner's line layout: header `key: value` lines, `jobs:` with
 * `  - name: ...` items and `    key: value` fields (one flow value per line; `transfers:` followed
 * by `      - {...}` items), then `edges:` with `  - [parent, child]`. `line()` returns false at
 * the first line outside that layout (the caller then reads the file as a whole document);
 * `end()` hands over what is still pending.
 */
export class PlanLineReader {
  private header: Record<string, unknown> = {};
  private headerLines: Record<string, number> = {};
  private headerSent = false;
  private section: 'header' | 'jobs' | 'edges' = 'header';
  private job: Record<string, unknown> | undefined;
  private jobLine = 0;
  private list: unknown[] | undefined;

  /** `fields`: the job fields to read (the lines of others are skipped unparsed); all when absent */
  constructor(
    private readonly out: RawPlanOut,
    private readonly fields?: ReadonlySet<string>,
  ) {}

  line(text: string, no: number): boolean {
    if (text.length === 0 || text[0] === '#') return true;
    // a blank line (the writer's lines never end in a space)
    if (text.charCodeAt(text.length - 1) === 32 && text.trim() === '') return true;
    if (text[0] !== ' ') return this.top(text, no);
    if (this.section === 'edges') {
      if (!text.startsWith('  - ')) return false;
      this.out.edge(plainPair(text) ?? this.value(text.slice(4), no), no);
      return true;
    }
    if (this.section !== 'jobs') return false;
    if (text.startsWith('  - ')) {
      const kv = keyValue(text.slice(4));
      if (kv?.[0] !== 'name' || kv[1] === '') return false;
      this.endJob();
      this.job = { name: this.value(kv[1], no) };
      this.jobLine = no;
      this.list = undefined;
      return true;
    }
    if (!this.job) return false;
    if (text.startsWith('      - ')) {
      if (!this.list) return false;
      if (this.list !== SKIPPED) this.list.push(this.value(text.slice(8), no));
      return true;
    }
    if (!text.startsWith('    ') || text[4] === ' ') return false;
    const kv = keyValue(text.slice(4));
    if (!kv) return false;
    if (this.fields && !this.fields.has(kv[0])) {
      this.list = SKIPPED;
    } else if (kv[1] === '') {
      this.list = [];
      this.job[kv[0]] = this.list;
    } else {
      this.list = undefined;
      this.job[kv[0]] = this.value(kv[1], no);
    }
    return true;
  }

  end(): void {
    this.endJob();
    this.sendHeader();
  }

  private endJob(): void {
    if (this.job) this.out.job(this.job, this.jobLine);
    this.job = undefined;
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.out.header(this.header, this.headerLines);
  }

  private top(text: string, no: number): boolean {
    const kv = keyValue(text);
    if (!kv) return false;
    const [key, v] = kv;
    if (key === 'jobs' || key === 'edges') {
      const value = v === '' ? [] : this.value(v, no);
      if (!Array.isArray(value) || (v !== '' && value.length > 0)) return false;
      this.headerLines[key] = no;
      this.endJob();
      this.sendHeader();
      this.section = key;
      return true;
    }
    if (this.section !== 'header' || v === '') return false;
    this.headerLines[key] = no;
    this.header[key] = this.value(v, no);
    return true;
  }

  private value(text: string, no: number): unknown {
    const v = parseFlowValue(text);
    if (v !== UNSUPPORTED) return v;
    try {
      return parseYaml(text);
    } catch (e) {
      this.out.fail(no, `${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/** The items of a skipped field's block list go nowhere. */
const SKIPPED: unknown[] = [];

/** `  - [a, b]` with two plain words that are not numbers (most edges): [a, b]; else undefined. */
function plainPair(text: string): [string, string] | undefined {
  if (text.charCodeAt(4) !== 91 || text.charCodeAt(text.length - 1) !== 93) return undefined; // [ ]
  const comma = text.indexOf(', ', 5);
  if (comma < 0) return undefined;
  const a = text.slice(5, comma);
  const b = text.slice(comma + 2, text.length - 1);
  return isWord(a) && isWord(b) ? [a, b] : undefined;
}

/** A plain scalar that reads as a string: plain characters, starting with a letter, `_` or `/`. */
function isWord(s: string): boolean {
  const c0 = s.charCodeAt(0);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122) || c0 === 95 || c0 === 47)) return false;
  for (let i = 1; i < s.length; i++) if (PLAIN_CHAR[s.charCodeAt(i)] !== 1) return false;
  return !RESERVED.test(s);
}

/** KEY_CHAR[c]: whether char code c may be in a key (`[A-Za-z0-9_.-]`, first `[A-Za-z_]`). */
const KEY_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-')
  KEY_CHAR[c.charCodeAt(0)] = 1;

/** `key: value` (value may be empty, trimmed); undefined when the line is not one. */
function keyValue(text: string): [string, string] | undefined {
  const c0 = text.charCodeAt(0);
  if (KEY_CHAR[c0] !== 1 || c0 < 65) return undefined; // a letter or _ first
  let i = 1;
  while (i < text.length && KEY_CHAR[text.charCodeAt(i)] === 1) i++;
  if (text.charCodeAt(i) !== 58) return undefined; // ':'
  if (i + 1 === text.length) return [text.slice(0, i), ''];
  if (text.charCodeAt(i + 1) !== 32) return undefined;
  return [text.slice(0, i), text.slice(i + 2).trim()];
}
