// Reading invocation records (kickstart 3.0 YAML, as formatRecordYaml writes them): one home for
// every reader (the monitor's ingest, the engine's exit codes). Records in the writer's layout
// are read by a text scanner; anything else by the \`yaml\` package. Import it as
// \`@pegasus-ts/kickstart/record-reader\` (loads no launcher).
import { parse } from 'yaml';

/** What a reader needs of one kickstart invocation record. */
export interface ParsedInvocation {
  /** character offset of the record in the text given to the parser */
  offset: number;
  /** epoch seconds */
  start: number;
  /** seconds */
  duration: number;
  transformation: string | null;
  derivation: string | null;
  resource: string | null;
  hostname: string | null;
  hostaddr: string | null;
  /** raw wait status (-1: could not start) */
  raw: number;
  exitCode: number | null;
  signal: number | null;
  /** utime + stime of the main job, seconds */
  cpu: number | null;
  /** KB */
  maxrss: number | null;
  executable: string | null;
  /** the argument vector as a JSON array text */
  argv: string;
  cwd: string | null;
  /** the captured stdout / stderr data embedded in the record, when there is any */
  stdout: string | null;
  stderr: string | null;
}

const HEAD = '- invocation: true\n  version: 3.0\n  start: ';

function unquote(v: string): string {
  if (v.length >= 2 && v.charCodeAt(0) === 34) {
    if (v.indexOf('\\') < 0) return v.slice(1, -1);
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

/** The rest of the line after `key` found at or after `from` in `r` (undefined if absent). */
function lineAfter(r: string, key: string, from = 0): string | undefined {
  const i = r.indexOf(key, from);
  if (i < 0) return undefined;
  const s = i + key.length;
  const e = r.indexOf('\n', s);
  return r.slice(s, e < 0 ? r.length : e);
}

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

let isoPrefix = '\0';
let isoZone = '';
let isoBase = 0;

/** ISO-8601 time -> epoch seconds; `YYYY-MM-DDTHH:MM:SS.mmm+hh:mm` via a per-minute cache. */
function isoSeconds(v: string): number {
  if (v.length === 29 && v.charCodeAt(16) === 58 && v.charCodeAt(19) === 46) {
    if (!v.startsWith(isoPrefix) || !v.endsWith(isoZone)) {
      isoPrefix = v.slice(0, 16);
      isoZone = v.slice(23);
      isoBase = Date.parse(`${isoPrefix}:00${isoZone}`) / 1000;
    }
    const sec = Number(v.slice(17, 23));
    if (Number.isFinite(sec) && !Number.isNaN(isoBase)) return Math.round((isoBase + sec) * 1000) / 1000;
  }
  return Date.parse(v) / 1000;
}

/** `data:` of a stdout/stderr entry: a literal block or a quoted scalar. */
function dataOf(block: string): string | null {
  const k = block.indexOf('\n      data: ');
  if (k < 0) return null;
  const s = k + 13;
  if (block.startsWith('|', s)) {
    // literal block: the following lines indented by 8
    let p = block.indexOf('\n', s);
    if (p < 0) return '';
    let out = '';
    for (;;) {
      if (!block.startsWith('        ', p + 1)) break;
      const e = block.indexOf('\n', p + 1);
      const end = e < 0 ? block.length : e;
      out += `${block.slice(p + 9, end)}\n`;
      if (e < 0) break;
      p = e;
    }
    return out;
  }
  const e = block.indexOf('\n', s);
  return unquote(block.slice(s, e < 0 ? block.length : e));
}

/**
 * Parses one record written in kickstart's own layout; undefined when it is laid out otherwise.
 * `lite`: a successful record's executable and argument vector are not read (null and `[]`).
 */
function fastRecord(r: string, offset: number, lite: boolean): ParsedInvocation | undefined {
  if (!r.startsWith(HEAD)) return undefined;
  const mj = r.indexOf('\n  mainjob:\n');
  if (mj < 0) return undefined;
  const cwdAt = r.indexOf('\n  cwd: ', mj);
  if (cwdAt < 0) return undefined;
  const head = r.slice(0, mj);
  const startEnd = head.indexOf('\n', HEAD.length);
  const startText = startEnd < 0 ? undefined : head.slice(HEAD.length, startEnd);
  const durText = lineAfter(head, '\n  duration: ');
  if (startText === undefined || durText === undefined) return undefined;
  const opt = (key: string): string | null => {
    const v = lineAfter(head, key);
    return v === undefined ? null : unquote(v);
  };
  const m = r.slice(mj, cwdAt);
  const rawText = lineAfter(m, '\n      raw: ');
  if (rawText === undefined) return undefined;
  const usage = m.indexOf('\n    usage:\n');
  let cpu: number | null = null;
  let maxrss: number | null = null;
  if (usage >= 0) {
    const ut = num(lineAfter(m, '\n      utime: ', usage));
    const st = num(lineAfter(m, '\n      stime: ', usage));
    cpu = ut === null || st === null ? null : ut + st;
    maxrss = num(lineAfter(m, '\n      maxrss: ', usage));
  }
  const raw = Number(rawText);
  const skip = lite && raw === 0;
  const exe = skip ? -1 : m.indexOf('\n    executable:\n');
  let executable: string | null = null;
  if (exe >= 0) {
    const fn = lineAfter(m, '_name: ', exe);
    if (fn !== undefined) executable = unquote(fn);
  }
  let argv = '[]';
  const av = skip ? -1 : m.indexOf('\n    argument_vector:');
  if (av >= 0 && !m.startsWith(' []', av + 21)) {
    const items: string[] = [];
    let p = m.indexOf('\n', av + 1);
    while (p >= 0 && m.startsWith('      - ', p + 1)) {
      const e = m.indexOf('\n', p + 1);
      const item = m.slice(p + 9, e < 0 ? m.length : e);
      items.push(item.charCodeAt(0) === 34 ? item : JSON.stringify(item));
      p = e;
    }
    argv = `[${items.join(',')}]`;
  }
  const cwdEnd = r.indexOf('\n', cwdAt + 8);
  const cwd = unquote(r.slice(cwdAt + 8, cwdEnd < 0 ? r.length : cwdEnd));
  let stdout: string | null = null;
  let stderr: string | null = null;
  const files = r.indexOf('\n  files:\n', cwdAt);
  if (files >= 0 && r.indexOf('\n      data: ', files) >= 0) {
    const so = r.indexOf('\n    stdout:\n', files);
    const se = r.indexOf('\n    stderr:\n', files);
    // a section ends at the next entry of its parent (4 spaces) or top-level key (2 spaces)
    const sectionEnd = (from: number): number => {
      let p = r.indexOf('\n', from + 1);
      while (p >= 0 && r.startsWith('      ', p + 1)) p = r.indexOf('\n', p + 1);
      return p < 0 ? r.length : p;
    };
    if (so >= 0) stdout = dataOf(r.slice(so, sectionEnd(so)));
    if (se >= 0) stderr = dataOf(r.slice(se, sectionEnd(se)));
  }
  const code = raw === 0 ? '0' : lineAfter(m, '\n      regular_exitcode: ');
  const sig = raw === 0 ? undefined : lineAfter(m, '\n      signalled_signal: ');
  return {
    offset,
    start: isoSeconds(startText),
    duration: Number(durText),
    transformation: opt('\n  transformation: '),
    derivation: opt('\n  derivation: '),
    resource: opt('\n  resource: '),
    hostname: opt('\n  hostname: '),
    hostaddr: opt('\n  hostaddr: '),
    raw,
    exitCode: code !== undefined ? Number(code) : raw >= 0 && (raw & 0x7f) === 0 ? raw >> 8 : null,
    signal: sig !== undefined ? Number(sig) : raw > 0 && (raw & 0x7f) !== 0 ? raw & 0x7f : null,
    cpu,
    maxrss,
    executable,
    argv,
    cwd,
    stdout,
    stderr,
  };
}

type Obj = Record<string, unknown>;
const s = (v: unknown): string | null => (v === undefined || v === null ? null : String(v));
const n = (v: unknown): number | null => {
  const x = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(x) ? x : null;
};
const time = (v: unknown): number => (v instanceof Date ? v.getTime() / 1000 : Date.parse(String(v)) / 1000);

/** Any record the `yaml` package can read (other writers, other layouts). */
function slowRecord(text: string, offset: number): ParsedInvocation | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  const rec = (Array.isArray(doc) ? doc[0] : doc) as Obj | undefined;
  if (!rec || typeof rec !== 'object') return undefined;
  const main = (rec.mainjob ?? {}) as Obj;
  const status = (main.status ?? {}) as Obj;
  const usage = (main.usage ?? {}) as Obj;
  const exe = (main.executable ?? {}) as Obj;
  const files = (rec.files ?? {}) as Obj;
  const data = (k: string): string | null => s(((files[k] ?? {}) as Obj).data);
  const raw = n(status.raw) ?? -1;
  const ut = n(usage.utime);
  const st = n(usage.stime);
  const argv = Array.isArray(main.argument_vector) ? main.argument_vector.map(String) : [];
  return {
    offset,
    start: time(rec.start),
    duration: n(rec.duration) ?? 0,
    transformation: s(rec.transformation),
    derivation: s(rec.derivation),
    resource: s(rec.resource),
    hostname: s(rec.hostname),
    hostaddr: s(rec.hostaddr),
    raw,
    exitCode: n(status.regular_exitcode) ?? (raw >= 0 && (raw & 0x7f) === 0 ? raw >> 8 : null),
    signal: n(status.signalled_signal) ?? (raw > 0 && (raw & 0x7f) !== 0 ? raw & 0x7f : null),
    cpu: ut === null || st === null ? null : ut + st,
    maxrss: n(usage.maxrss),
    executable: s(exe.file_name ?? exe.temporary_name),
    argv: JSON.stringify(argv),
    cwd: s(rec.cwd),
    stdout: data('stdout'),
    stderr: data('stderr'),
  };
}

/**
 * Parses one record (the text of one `- invocation:` sequence item). `lite`: a successful
 * record's executable and argument vector may be left out (null and `[]`).
 */
export function parseInvocationRecord(text: string, offset = 0, lite = false): ParsedInvocation | undefined {
  return fastRecord(text, offset, lite) ?? slowRecord(text, offset);
}

/**
 * Splits `text` (records appended to one file, a YAML sequence) into records and parses them.
 * Every record but the last is complete (the next one starts after it); the last one counts
 * only when `final` (the writer is done with it). Returns the records and how many characters
 * they span; `bad` counts record texts that could not be read at all (skipped).
 */
export function parseInvocationText(
  text: string,
  final: boolean,
): { records: ParsedInvocation[]; consumed: number; bad: number } {
  const records: ParsedInvocation[] = [];
  const r = eachInvocation(text, final, (x) => records.push(x));
  return { records, consumed: r.consumed, bad: r.bad };
}

/**
 * parseInvocationText handing each record (and its text) to `onRecord` instead of collecting
 * them; `lite` as for parseInvocationRecord.
 */
export function eachInvocation(
  text: string,
  final: boolean,
  onRecord: (r: ParsedInvocation, text: string) => void,
  lite = false,
): { consumed: number; bad: number } {
  let bad = 0;
  let s = 0;
  // skip anything before the first record (a comment, a `---`)
  if (!text.startsWith('- ')) {
    const first = text.indexOf('\n- ');
    if (first < 0) return { consumed: 0, bad };
    s = first + 1;
  }
  for (;;) {
    const nl = text.indexOf('\n- ', s);
    if (nl < 0) break;
    const e = nl + 1;
    const t = text.slice(s, e);
    const r = parseInvocationRecord(t, s, lite);
    if (r) onRecord(r, t);
    else bad++;
    s = e;
  }
  if (final && s < text.length && text.endsWith('\n')) {
    const t = text.slice(s);
    const r = parseInvocationRecord(t, s, lite);
    if (r) onRecord(r, t);
    else bad++;
    s = text.length;
  }
  return { consumed: s, bad };
}
