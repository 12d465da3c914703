import { getProfile, isOutputUse, type Job, type WorkflowGraph } from '@pegasus-ts/model';

export interface DataReuseResult {
  /** keep[i] = 1 when job i stays in the workflow */
  keep: Uint8Array;
  /** indices of the jobs removed, in workflow order */
  deleted: number[];
}

/**
 * Data reuse (Pegasus DataReuseEngine): removes jobs whose outputs already exist (`exists(lfn)`,
 * the replica catalogs and the output catalogs of --reuse runs), then, bottom-up, every job
 * whose children are all removed and none of whose outputs must still be staged out.
 * `scope`: `full`, `partial` (only jobs with pegasus profile `enable_for_data_reuse=true`) or
 * `none` (nothing is removed). O(jobs + uses + edges).
 */
export function reduceDataReuse(
  graph: WorkflowGraph,
  exists: (lfn: string) => boolean,
  scope: 'full' | 'partial' | 'none' = 'full',
): DataReuseResult {
  const jobs = graph.jobs;
  const n = jobs.length;
  const keep = new Uint8Array(n).fill(1);
  if (scope === 'none' || n === 0) return { keep, deleted: [] };
  const enabled = (j: Job): boolean => {
    if (scope !== 'partial') return true;
    const v = getProfile(j.profiles, 'pegasus', 'enable_for_data_reuse');
    return String(v).toLowerCase() === 'true';
  };
  // pass 1: jobs whose every output is already in the catalogs (a job whose outputs are new is
  // kept, even when nothing consumes them: it may be run for its side effects, as in Pegasus)
  for (let i = 0; i < n; i++) {
    const j = jobs[i];
    if (!enabled(j)) continue;
    let outputs = 0;
    let matched = 0;
    for (const u of j.uses) {
      if (!isOutputUse(u)) continue;
      outputs++;
      if (exists(u.lfn)) matched++;
    }
    if (outputs > 0 && matched === outputs) keep[i] = 0;
  }
  // pass 2: cascade bottom-up
  const order = graph.topologicalOrder();
  if (order) {
    for (let k = order.length - 1; k >= 0; k--) {
      const i = order[k];
      if (!keep[i] || !enabled(jobs[i])) continue;
      const ch = graph.children[i];
      if (ch.length === 0) continue;
      let allGone = true;
      for (const c of ch) {
        if (keep[c]) {
          allGone = false;
          break;
        }
      }
      if (!allGone) continue;
      let transfers = false;
      for (const u of jobs[i].uses) {
        if (isOutputUse(u) && u.stageOut && !exists(u.lfn)) {
          transfers = true;
          break;
        }
      }
      if (!transfers) keep[i] = 0;
    }
  }
  const deleted: number[] = [];
  for (let i = 0; i < n; i++) if (!keep[i]) deleted.push(i);
  return { keep, deleted };
}
