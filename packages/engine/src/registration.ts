import { renameSync, writeFileSync } from 'node:fs';
import { loadReplicaCatalog, type ReplicaCatalog, replicaCatalogToYaml } from '@pegasus-ts/model';
import type { PlanRegistration } from './plan-file.js';

/**
 * Adds the outputs' final locations to the output replica catalog (`output-replicas.yml`, rc-5.0
 * YAML, what `pegasus-ts plan --reuse` reads). Idempotent: an lfn/pfn/site already there is not
 * added twice, so a rerun after a crash changes nothing. Written to a temporary file and renamed.
 */
export async function registerReplicas(file: string, entries: readonly PlanRegistration[]): Promise<number> {
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
