import { getProfile } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecutableWorkflow } from '../executable-workflow.js';
import { adjacencyOf, longestDepths, topologicalOrder } from '../internal/graph.js';
import { clusterNamePart, contractClusters } from './contract-clusters.js';

/**
 * Horizontal clustering: compute jobs on the same level (longest distance from a root; roots
 * at 1), with the same transformation and site, are grouped; a group of n jobs is cut into
 * `clusters.num` clusters (sizes n/num, the first n%num one larger) or chunks of
 * `clusters.size` (default 1 = none), read from the first job's profiles (`num` wins). A chunk
 * of one job stays alone unless `allowSingle`. Names: `merge_<ns-name-ver>_PID<level>_ID<n>`.
 */
export function clusterHorizontal(wf: ExecutableWorkflow, allowSingle = false): ExecutableWorkflow {
  const adj = adjacencyOf(wf);
  const depth = longestDepths(adj, topologicalOrder(adj));
  const buckets = new Map<string, number[]>();
  const keys: string[] = [];
  for (let i = 0; i < wf.jobs.length; i++) {
    const j = wf.jobs[i];
    if (j.kind !== 'compute') continue;
    const key = `${depth[i] + 1}\0${j.transformation}\0${j.site}`;
    const b = buckets.get(key);
    if (b) b.push(i);
    else {
      buckets.set(key, [i]);
      keys.push(key);
    }
  }
  const groupOf = new Int32Array(wf.jobs.length).fill(-1);
  const names: string[] = [];
  const idPerLevelTr = new Map<string, number>();
  for (const key of keys) {
    const jobsOf = buckets.get(key) as number[];
    const first = wf.jobs[jobsOf[0]];
    const num = positive(getProfile(first.profiles, 'pegasus', 'clusters.num'), 'clusters.num', first.name);
    const size = positive(
      getProfile(first.profiles, 'pegasus', 'clusters.size'),
      'clusters.size',
      first.name,
    );
    const n = jobsOf.length;
    const sizes: number[] = [];
    if (num !== undefined) {
      const b = Math.min(num, n);
      const factor = Math.floor(n / b);
      const extra = n % b;
      for (let c = 0; c < b; c++) sizes.push(c < extra ? factor + 1 : factor);
    } else {
      const s = size ?? 1;
      for (let left = n; left > 0; left -= s) sizes.push(Math.min(s, left));
    }
    const level = Number(key.slice(0, key.indexOf('\0')));
    const idKey = `${level}\0${first.transformation}`;
    let pos = 0;
    for (const sz of sizes) {
      if (sz === 1 && !allowSingle) {
        pos++;
        continue;
      }
      const id = (idPerLevelTr.get(idKey) ?? 0) + 1;
      idPerLevelTr.set(idKey, id);
      const g = names.length;
      names.push(`merge_${clusterNamePart(first.transformation)}_PID${level}_ID${id}`);
      for (let k = 0; k < sz; k++) groupOf[jobsOf[pos++]] = g;
    }
  }
  if (names.length === 0) return wf;
  return contractClusters(wf, groupOf, names, 'horizontal');
}

function positive(v: unknown, key: string, job: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new PlanError(`job "${job}": pegasus profile ${key} is "${v}" (expected an integer >= 1)`);
  }
  return n;
}
