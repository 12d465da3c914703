import { SpecError } from './errors.js';

/** Why a file moves (pegasus-transfer's `linkage`). */
export type Linkage = 'input' | 'output' | 'inter';

/** The only checksum type the Pegasus 5.0 schemas define. */
export interface SpecChecksum {
  /** 64 hex digits (lower-cased when parsed) */
  sha256: string;
}

/** A URL and the site where it is valid (pegasus-transfer's `src_urls`/`dest_urls` items). */
export interface SpecUrl {
  site_label: string;
  url: string;
  /** sources only: the expected sha256 of the file */
  checksum?: SpecChecksum;
}

/** Copy one file: sources tried in order within an attempt, the first that works wins. */
export interface TransferEntry {
  type: 'transfer';
  lfn: string;
  linkage?: Linkage;
  src_urls: SpecUrl[];
  /** exactly one destination */
  dest_urls: SpecUrl[];
  /** compute the sha256 of the written file even without an expected sum (pegasus-transfer's flag) */
  generate_checksum?: boolean;
  id?: number;
}

/** Create a directory and its parents (existing is fine). */
export interface MkdirEntry {
  type: 'mkdir';
  target: SpecUrl;
  id?: number;
}

/** Remove a file, or a whole tree with `recursive`; a missing target is not an error. */
export interface RemoveEntry {
  type: 'remove';
  target: SpecUrl;
  recursive: boolean;
  id?: number;
}

export type SpecEntry = TransferEntry | MkdirEntry | RemoveEntry;

const SHA256 = /^[0-9a-fA-F]{64}$/;
const LINKAGES = new Set(['input', 'output', 'inter']);

/** 1-based line and column of a 0-based character offset. */
function lineCol(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(pos, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: end - start + 1 };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks entries one at a time and reports the first problem with its JSON path. */
class Checker {
  constructor(private readonly file: string) {}

  fail(path: string, lfn: string | undefined, problem: string, expected: string): never {
    const who = lfn === undefined ? '' : ` (lfn ${JSON.stringify(lfn)})`;
    throw new SpecError(`${this.file}: ${path}${who}: ${problem} (expected ${expected})`);
  }

  string(o: Record<string, unknown>, key: string, path: string, lfn: string | undefined): string {
    const v = o[key];
    if (v === undefined) this.fail(`${path}.${key}`, lfn, 'missing', 'a string');
    if (typeof v !== 'string' || v === '')
      this.fail(`${path}.${key}`, lfn, `is ${typeName(v)}`, 'a non-empty string');
    return v;
  }

  siteUrl(v: unknown, path: string, lfn: string | undefined, withChecksum: boolean): SpecUrl {
    if (!isObject(v)) this.fail(path, lfn, `is ${typeName(v)}`, 'an object {"site_label": ..., "url": ...}');
    const url: SpecUrl = {
      site_label: v.site_label === undefined ? '' : this.string(v, 'site_label', path, lfn),
      url: this.string(v, 'url', path, lfn),
    };
    if (v.checksum !== undefined) {
      if (!withChecksum) this.fail(`${path}.checksum`, lfn, 'not allowed here', 'checksums on src_urls only');
      const c = v.checksum;
      if (!isObject(c) || typeof c.sha256 !== 'string' || !SHA256.test(c.sha256)) {
        this.fail(`${path}.checksum`, lfn, `is ${JSON.stringify(c)}`, '{"sha256": "<64 hex digits>"}');
      }
      url.checksum = { sha256: c.sha256.toLowerCase() };
    }
    return url;
  }

  urls(o: Record<string, unknown>, key: string, path: string, lfn: string, sources: boolean): SpecUrl[] {
    const v = o[key];
    if (!Array.isArray(v) || v.length === 0) {
      this.fail(
        `${path}.${key}`,
        lfn,
        v === undefined ? 'missing' : `is ${typeName(v)}`,
        'a non-empty array',
      );
    }
    return v.map((u, i) => this.siteUrl(u, `${path}.${key}[${i}]`, lfn, sources));
  }

  flag(v: unknown, path: string, lfn: string | undefined): boolean {
    if (v === undefined) return false;
    if (typeof v === 'boolean') return v;
    // pegasus-transfer writes "True"/"False"
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    return this.fail(path, lfn, `is ${typeName(v)}`, 'true or false');
  }

  entry(v: unknown, i: number): SpecEntry {
    const path = `[${i}]`;
    if (!isObject(v)) this.fail(path, undefined, `is ${typeName(v)}`, 'an object with "type"');
    const id = typeof v.id === 'number' ? v.id : undefined;
    switch (v.type) {
      case 'transfer': {
        const lfn = this.string(v, 'lfn', path, undefined);
        const e: TransferEntry = {
          type: 'transfer',
          lfn,
          src_urls: this.urls(v, 'src_urls', path, lfn, true),
          dest_urls: this.urls(v, 'dest_urls', path, lfn, false),
        };
        if (e.dest_urls.length !== 1) {
          this.fail(`${path}.dest_urls`, lfn, `has ${e.dest_urls.length} URLs`, 'exactly one destination');
        }
        if (v.linkage !== undefined) {
          if (typeof v.linkage !== 'string' || !LINKAGES.has(v.linkage)) {
            this.fail(`${path}.linkage`, lfn, `is ${typeName(v.linkage)}`, '"input", "output" or "inter"');
          }
          e.linkage = v.linkage as Linkage;
        }
        if (this.flag(v.generate_checksum, `${path}.generate_checksum`, lfn)) e.generate_checksum = true;
        if (id !== undefined) e.id = id;
        return e;
      }
      case 'mkdir': {
        const e: MkdirEntry = {
          type: 'mkdir',
          target: this.siteUrl(v.target, `${path}.target`, undefined, false),
        };
        if (id !== undefined) e.id = id;
        return e;
      }
      case 'remove': {
        const target = isObject(v.target) ? v.target : undefined;
        // `recursive` on the entry, or inside the target as pegasus-transfer writes it
        const rec = v.recursive !== undefined ? v.recursive : target?.recursive;
        const e: RemoveEntry = {
          type: 'remove',
          target: this.siteUrl(v.target, `${path}.target`, undefined, false),
          recursive: this.flag(rec, `${path}.recursive`, undefined),
        };
        if (id !== undefined) e.id = id;
        return e;
      }
      default:
        return this.fail(
          `${path}.type`,
          undefined,
          `is ${typeName(v.type)}`,
          '"transfer", "mkdir" or "remove"',
        );
    }
  }
}

/** Validates an already parsed spec (an array of entries); `file` names it in errors. */
export function validateSpec(value: unknown, file = 'spec'): SpecEntry[] {
  const check: Checker = new Checker(file);
  if (!Array.isArray(value)) {
    check.fail(
      'top level',
      undefined,
      `is ${typeName(value)}`,
      'a JSON array of transfer/mkdir/remove entries',
    );
  }
  const out = new Array<SpecEntry>(value.length);
  for (let i = 0; i < value.length; i++) out[i] = check.entry(value[i], i);
  return out;
}

/**
 * Parses and validates spec text. Errors are SpecErrors of one line: `FILE:LINE:COL: invalid
 * JSON: ...` for syntax errors, `FILE: [i].key (lfn "f"): problem (expected ...)` for entries.
 */
export function parseSpec(text: string, file = 'spec'): SpecEntry[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const m = /at position (\d+)/.exec(message);
    const pos = m ? Number(m[1]) : body.length;
    const { line, col } = lineCol(body, pos);
    const reason = message
      .replace(/\s*in JSON at position \d+.*$/, '')
      .replace(/\s*\(line \d+ column \d+\)/, '');
    throw new SpecError(
      `${file}:${line}:${col}: invalid JSON: ${reason} (expected a JSON array of transfer/mkdir/remove entries)`,
    );
  }
  return validateSpec(value, file);
}

/** Spec text: a JSON array with one entry per line (what the engine writes for a data job). */
export function formatSpec(entries: readonly SpecEntry[]): string {
  if (entries.length === 0) return '[]\n';
  let s = '[\n';
  for (let i = 0; i < entries.length; i++)
    s += `${JSON.stringify(entries[i])}${i + 1 < entries.length ? ',' : ''}\n`;
  return `${s}]\n`;
}
