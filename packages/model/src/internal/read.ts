import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import type { Checksum, Extensions, HookEvent, Hooks, Metadata } from '../common.js';
import type { Issue } from '../errors.js';
import { isProfileNamespace, type Profiles, type ProfileValue } from '../profiles.js';
import { parseYamlSubset, type RootItemHook, YamlSubsetDecline } from './fast-yaml.js';
import { FileSource, ItemIndex } from './file-source.js';
import { isPlainObject } from './schema.js';
import { type Source, SourceText } from './source.js';
import { streamYamlSubset } from './yaml-file.js';

export interface YamlRead {
  value: unknown;
  source: Source;
  issues: Issue[];
}

/**
 * Makes the hook that sees each item of a sequence under a key of the root mapping as soon as it is
 * read (the loaders convert jobs one by one); called again when a read starts over.
 */
export type HookFactory = (source: Source) => RootItemHook | undefined;

/** Files bigger than this that leave the streaming subset are not handed to the `yaml` package. */
export const FULL_PARSER_LIMIT = 256 * 1024 * 1024;

/**
 * Parses YAML text: the fast subset reader first, the `yaml` package when the text leaves the
 * subset. Syntax errors come back as issues with positions (all of them).
 */
export function readYaml(text: string, file: string, hooks?: HookFactory): YamlRead {
  const source = new SourceText(file, text);
  try {
    return { value: parseYamlSubset(text, hooks?.(source)), source, issues: [] };
  } catch (e) {
    if (!(e instanceof YamlSubsetDecline)) throw e;
  }
  return readYamlFull(source, hooks);
}

function readYamlFull(source: SourceText, hooks?: HookFactory): YamlRead {
  try {
    const value = parse(source.text, { logLevel: 'error' });
    applyHook(value, hooks?.(source));
    return { value, source, issues: [] };
  } catch {
    const issues = source.syntaxIssues();
    if (issues.length === 0)
      issues.push({ file: source.file, line: 1, column: 1, message: 'not a valid YAML document' });
    return { value: undefined, source, issues };
  }
}

/** Runs the hook over every item of the root mapping's sequences, as the streaming reader does. */
function applyHook(value: unknown, hook: RootItemHook | undefined): void {
  if (!hook || !isPlainObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (!Array.isArray(v)) continue;
    for (let i = 0; i < v.length; i++) v[i] = hook(k, i, v[i]);
  }
}

/**
 * Reads a YAML file: streamed through the fast subset reader (the text is never held whole;
 * positions are found again on demand), or, when the file leaves the subset, read whole and parsed
 * by the `yaml` package (refused with an issue above FULL_PARSER_LIMIT). File system errors throw.
 */
export async function readYamlFile(
  path: string,
  hooks?: HookFactory,
  fullParserLimit = FULL_PARSER_LIMIT,
): Promise<YamlRead> {
  const index = new ItemIndex();
  const source = new FileSource(path, index);
  let declined: YamlSubsetDecline;
  try {
    return { value: await streamYamlSubset(path, hooks?.(source), index), source, issues: [] };
  } catch (e) {
    if (!(e instanceof YamlSubsetDecline)) throw e;
    declined = e;
  }
  const size = (await stat(path)).size;
  if (size > fullParserLimit) {
    const mb = Math.round(size / 2 ** 20);
    return {
      value: undefined,
      source,
      issues: [
        {
          file: path,
          line: declined.line,
          column: 1,
          message: `${declined.reason}: a ${mb} MB file must be plain block-style YAML to be read by streaming (expected no anchors, tags, block or multi-line scalars or flows)`,
        },
      ],
    };
  }
  return readYamlFull(new SourceText(path, await readFile(path, 'utf8')), hooks);
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
