import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Checksum, Extensions, Hooks, Metadata } from '../common.js';
import { PROFILE_NAMESPACES, type Profiles } from '../profiles.js';

/** YAML text of a plain document (no line folding; strings that look like numbers are quoted). */
export function toYamlText(doc: unknown): string {
  return stringify(doc, { lineWidth: 0, minContentWidth: 0 });
}

export async function writeText(path: string, text: string): Promise<void> {
  await writeFile(path, text, 'utf8');
}

type Obj = Record<string, unknown>;

export function set(o: Obj, key: string, v: unknown): void {
  if (v !== undefined) o[key] = v;
}

export function profilesDoc(p: Profiles | undefined): Obj | undefined {
  if (!p) return undefined;
  let out: Obj | undefined;
  for (const ns of PROFILE_NAMESPACES) {
    const m = p[ns];
    if (!m || Object.keys(m).length === 0) continue;
    out ??= {};
    out[ns] = { ...m };
  }
  return out;
}

export function metadataDoc(m: Metadata | undefined): Obj | undefined {
  return m && Object.keys(m).length > 0 ? { ...m } : undefined;
}

export function hooksDoc(h: Hooks | undefined): Obj | undefined {
  if (!h || h.shell.length === 0) return undefined;
  return { shell: h.shell.map((s) => ({ _on: s.on, cmd: s.cmd })) };
}

export function checksumDoc(c: Checksum | undefined): Obj | undefined {
  return c && c.sha256 !== undefined ? { sha256: c.sha256 } : undefined;
}

export function addExtensions(o: Obj, e: Extensions | undefined): Obj {
  if (e) for (const [k, v] of Object.entries(e)) if (k.startsWith('x-')) o[k] = v;
  return o;
}
