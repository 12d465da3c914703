import { readFile } from 'node:fs/promises';
import { type Issue, throwIfIssues } from './errors.js';
import { writeText } from './internal/write.js';
import { isProfileNamespace, type Profiles } from './profiles.js';

type Init = Iterable<readonly [string, string]> | Record<string, string | number | boolean>;

/**
 * Pegasus properties (`pegasus.properties`, Java `.properties` format): an ordered string map.
 * Keys: `pegasus.*` (planner settings and pegasus profiles), `dagman.*`, and profile-namespace
 * keys such as `env.X`, `condor.X`, `globus.X`, `selector.X`.
 */
export class Properties implements Iterable<[string, string]> {
  private readonly map = new Map<string, string>();
  private readonly where = new Map<string, { file: string; line: number; column: number }>();

  constructor(init?: Init) {
    if (init) this.merge(init);
  }

  /** Parses Java properties text (comments, continuation lines, escapes). Throws ModelError. */
  static parse(text: string, file = 'pegasus.properties'): Properties {
    const p = new Properties();
    const issues: Issue[] = [];
    for (const e of parsePropertiesText(text, file, issues)) {
      p.map.set(e.key, e.value);
      p.where.set(e.key, { file, line: e.line, column: e.column });
    }
    throwIfIssues(issues);
    return p;
  }

  static async load(path: string): Promise<Properties> {
    return Properties.parse(await readFile(path, 'utf8'), path);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  /** `true`/`false` (case-insensitive) or the default; anything else is the default too. */
  getBoolean(key: string, dflt: boolean): boolean {
    const v = this.map.get(key)?.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    return dflt;
  }

  /** A finite number or the default. */
  getNumber(key: string, dflt: number): number {
    const v = this.map.get(key);
    if (v === undefined || v.trim() === '') return dflt;
    const n = Number(v);
    return Number.isFinite(n) ? n : dflt;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: string | number | boolean): this {
    this.map.set(key, String(value));
    this.where.delete(key);
    return this;
  }

  delete(key: string): boolean {
    this.where.delete(key);
    return this.map.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }

  /** Where a key was read (file, line, column), when it came from a parsed file. */
  locate(key: string): { file: string; line: number; column: number } | undefined {
    return this.where.get(key);
  }

  /** Overlays other sources in order (later wins), e.g. file < --conf < -D overrides. */
  merge(...sources: (Properties | Init)[]): this {
    for (const s of sources) {
      if (s instanceof Properties) {
        for (const [k, v] of s.map) {
          this.map.set(k, v);
          const w = s.where.get(k);
          if (w) this.where.set(k, w);
          else this.where.delete(k);
        }
      } else if (Symbol.iterator in s) {
        for (const [k, v] of s as Iterable<readonly [string, string]>) this.set(k, v);
      } else {
        for (const [k, v] of Object.entries(s)) this.set(k, v);
      }
    }
    return this;
  }

  /** A copy with the `-Dkey=value` (or `key=value`) overrides applied (see parseDefines). */
  withDefines(defines: readonly string[]): Properties {
    return new Properties().merge(this, parseDefines(defines));
  }

  /** Keys starting with `prefix` (prefix removed), e.g. subset('pegasus.catalog.site.'). */
  subset(prefix: string): Properties {
    const out = new Properties();
    for (const [k, v] of this.map) if (k.startsWith(prefix)) out.map.set(k.slice(prefix.length), v);
    return out;
  }

  /**
   * Profiles given as properties: `<namespace>.<key>` for env, condor, globus, dagman, pegasus,
   * selector and hints (`pegasus.*` keys all land in the pegasus namespace; the planner only reads
   * the profile keys it knows). These fill in what workflow, site and TC profiles leave unset.
   */
  profiles(): Profiles {
    const out: Profiles = {};
    for (const [k, v] of this.map) {
      const dot = k.indexOf('.');
      if (dot <= 0 || dot === k.length - 1) continue;
      const ns = k.slice(0, dot);
      if (!isProfileNamespace(ns)) continue;
      let m = out[ns];
      if (!m) {
        m = {};
        out[ns] = m;
      }
      m[k.slice(dot + 1)] = v;
    }
    return out;
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.map);
  }

  /** Java properties text, one `key = value` per line, escaped so that parse() gives it back. */
  toString(): string {
    let s = '';
    for (const [k, v] of this.map) s += `${escapeProps(k, true)} = ${escapeProps(v, false)}\n`;
    return s;
  }

  async write(path: string): Promise<void> {
    await writeText(path, this.toString());
  }
}

/**
 * Parses `-Dkey=value` / `key=value` items (as given to pegasus-plan) into a key -> value map.
 * Throws ModelError for an item without `=` or with an empty key.
 */
export function parseDefines(defines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const issues: Issue[] = [];
  defines.forEach((d, i) => {
    const s = d.startsWith('-D') ? d.slice(2) : d;
    const eq = s.indexOf('=');
    if (eq <= 0) {
      issues.push({
        file: '<command line>',
        line: 0,
        column: 0,
        message: `argument ${i + 1} "${d}" (expected -Dkey=value)`,
      });
      return;
    }
    out.set(s.slice(0, eq).trim(), s.slice(eq + 1));
  });
  throwIfIssues(issues);
  return out;
}

/**
 * Properties given as environment variables: `_PEGASUS__CATALOG__REPLICA__FILE=x` is
 * `pegasus.catalog.replica.file=x` (upper-cased key, `.` as `__`, `_` prefix; read back lower-case).
 */
export function propertiesFromEnv(env: Record<string, string | undefined>): Properties {
  const p = new Properties();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !/^_[A-Z][A-Z0-9]*(__[A-Z0-9_]+)+$/.test(k)) continue;
    p.set(k.slice(1).split('__').join('.').toLowerCase(), v);
  }
  return p;
}

interface Entry {
  key: string;
  value: string;
  line: number;
  column: number;
}

const WS = new Set([' ', '\t', '\f']);

/** @internal java.util.Properties.load semantics. */
export function parsePropertiesText(text: string, file: string, issues: Issue[]): Entry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const out: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let raw = lines[i];
    let p = 0;
    while (p < raw.length && WS.has(raw[p])) p++;
    if (p === raw.length || raw[p] === '#' || raw[p] === '!') continue;
    const column = p + 1;
    let logical = raw.slice(p);
    while (endsWithContinuation(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1);
      i++;
      raw = lines[i];
      let q = 0;
      while (q < raw.length && WS.has(raw[q])) q++;
      logical += raw.slice(q);
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    // key: up to the first unescaped '=', ':' or whitespace
    let k = 0;
    let sep = -1;
    while (k < logical.length) {
      const c = logical[k];
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || WS.has(c)) {
        sep = k;
        break;
      }
      k++;
    }
    const keyRaw = sep < 0 ? logical : logical.slice(0, sep);
    let v = sep < 0 ? logical.length : sep;
    while (v < logical.length && WS.has(logical[v])) v++;
    if (v < logical.length && (logical[v] === '=' || logical[v] === ':')) {
      v++;
      while (v < logical.length && WS.has(logical[v])) v++;
    }
    const at = { file, line: startLine, column };
    const key = unescapeProps(keyRaw, at, issues);
    const value = unescapeProps(logical.slice(v), at, issues);
    out.push({ key, value, line: startLine, column });
  }
  return out;
}

function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function unescapeProps(
  s: string,
  at: { file: string; line: number; column: number },
  issues: Issue[],
): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        issues.push({ ...at, message: `malformed \\u escape "\\u${hex}" (expected \\u and 4 hex digits)` });
      } else out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else out += n;
  }
  return out;
}

function escapeProps(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = c.charCodeAt(0);
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (c === ' ' && (isKey || i === 0)) out += '\\ ';
    else if (c === '=' || c === ':' || c === '#' || c === '!') out += isKey || i === 0 ? `\\${c}` : c;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out;
}
