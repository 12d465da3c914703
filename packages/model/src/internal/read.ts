import { parse } from 'yaml';
import type { Checksum, Extensions, HookEvent, Hooks, Metadata } from '../common.js';
import type { Issue } from '../errors.js';
import { isProfileNamespace, type Profiles, type ProfileValue } from '../profiles.js';
import { isPlainObject } from './schema.js';
import { SourceText } from './source.js';

/** Parses YAML text. Syntax errors come back as issues with positions (all of them). */
export function readYaml(
  text: string,
  file: string,
): { value: unknown; source: SourceText; issues: Issue[] } {
  const source = new SourceText(file, text);
  try {
    const value = parse(text, { logLevel: 'error' });
    return { value, source, issues: [] };
  } catch {
    const issues = source.syntaxIssues();
    if (issues.length === 0) issues.push({ file, line: 1, column: 1, message: 'not a valid YAML document' });
    return { value: undefined, source, issues };
  }
}

// --- defensive readers (the converters run even when the schema check found problems) ----------
export const asObj = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const asNum = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
export const asBool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** Sets `target[key] = value` only when value is defined (keeps optional fields absent). */
export function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function readProfiles(v: unknown): Profiles {
  const out: Profiles = {};
  for (const [ns, m] of Object.entries(asObj(v))) {
    if (!isProfileNamespace(ns) || !isPlainObject(m)) continue;
    const entries: Record<string, ProfileValue> = {};
    for (const [k, val] of Object.entries(m)) {
      if (k.startsWith('x-')) continue;
      if (typeof val === 'string' || typeof val === 'number') entries[k] = val;
    }
    out[ns] = entries;
  }
  return out;
}

export function readMetadata(v: unknown): Metadata | undefined {
  if (!isPlainObject(v)) return undefined;
  const out: Metadata = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string' || typeof val === 'number') out[k] = val;
  }
  return out;
}

export function readHooks(v: unknown): Hooks | undefined {
  if (!isPlainObject(v)) return undefined;
  const shell = asArr(v.shell)
    .map(asObj)
    .map((h) => ({ on: (asStr(h._on) ?? 'never') as HookEvent, cmd: asStr(h.cmd) ?? '' }));
  return { shell };
}

export function readChecksum(v: unknown): Checksum | undefined {
  if (!isPlainObject(v)) return undefined;
  const out: Checksum = {};
  put(out, 'sha256', asStr(v.sha256));
  return out;
}

/** The `x-*` keys of a mapping, or undefined when there are none. */
export function readExtensions(v: unknown): Extensions | undefined {
  if (!isPlainObject(v)) return undefined;
  let out: Extensions | undefined;
  for (const k of Object.keys(v)) {
    if (k.startsWith('x-')) {
      out ??= {};
      out[k] = v[k];
    }
  }
  return out;
}
