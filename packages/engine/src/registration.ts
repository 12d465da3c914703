import { renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LockFile } from '@pegasus-ts/io';
import type { PlanRegistration } from '@pegasus-ts/model';
import { loadReplicaCatalog, type ReplicaCatalog, replicaCatalogToYaml } from '@pegasus-ts/model';
import { EngineError } from './errors.js';

/**
 * Adds the outputs' final locations to the output replica catalog (`output-replicas.yml`, rc-5.0
 * YAML, what `pegasus-ts plan --reuse` reads). Idempotent: an lfn/pfn/site already there is not
 * added twice, so a rerun after a crash changes nothing. Written to a temporary file and renamed,
 * under a lock file (`FILE.lock`, @pegasus-ts/io's LockFile: waited for while its holder lives, taken
 * over when it is gone) so that registration jobs running at once never lose entries.
 */
export async function registerReplicas(file: string, entries: readonly PlanRegistration[]): Promise<number> {
  let lock: LockFile;
  try {
    lock = await LockFile.acquire(`${file}.lock`);
  } catch (e) {
    throw new EngineError((e as Error).message);
  }
  try {
    return await register(file, entries);
  } finally {
    lock.release();
  }
}

async function register(file: string, entries: readonly PlanRegistration[]): Promise<number> {
  let rc: ReplicaCatalog;
  try {
    rc = await loadReplicaCatalog(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !String((e as Error).message).includes('ENOENT'))
      throw e;
    rc = { pegasus: '5.0', replicas: [] };
  }
  const byLfn = new Map(rc.replicas.filter((r) => !r.regex).map((r) => [r.lfn, r]));
  let added = 0;
  for (const e of entries) {
    let r = byLfn.get(e.lfn);
    if (!r) {
      r = { lfn: e.lfn, pfns: [], regex: false };
      rc.replicas.push(r);
      byLfn.set(e.lfn, r);
    }
    if (r.pfns.some((p) => p.pfn === e.url && p.site === e.site)) continue;
    r.pfns.push({ pfn: e.url, site: e.site });
    added++;
  }
  if (added > 0) {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, replicaCatalogToYaml(rc));
    renameSync(tmp, file);
  }
  return added;
}

/** Reads a JSON list of `{lfn, url, site}` (what `pegasus-ts rc-client --insert` takes). */
export async function readRegistrations(file: string): Promise<PlanRegistration[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EngineError(`${file}: cannot read: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new EngineError(`${file}: not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new EngineError(`${file}: expected a JSON list of {lfn, url, site}`);
  return v.map((r, i) => {
    const o = r as Record<string, unknown>;
    for (const k of ['lfn', 'url', 'site']) {
      if (typeof o?.[k] !== 'string' || o[k] === '')
        throw new EngineError(`${file}: entry ${i + 1}: ${k}: expected a non-empty string`);
    }
    return { lfn: o.lfn as string, url: o.url as string, site: o.site as string };
  });
}
