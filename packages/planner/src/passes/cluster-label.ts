import { getProfile } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecutableWorkflow } from '../executable-workflow.js';
import { contractClusters } from './contract-clusters.js';

/**
 * Label clustering: compute jobs with the same value of pegasus profile `labelKey` (default
 * `label`) become one cluster job, which may span levels (a whole sub-DAG, or the whole
 * workflow with `whole`). Tasks run in a topological order; the cluster's edges are the union
 * of the members' outside edges; a label that would create a cycle is an error. All members
 * must be mapped to the same site. Names: `merge_<label>_PID<n>` (n = label number, from 1).
 * `whole`: every compute job gets one label.
 */
export function clusterLabel(
  wf: ExecutableWorkflow,
  labelKey = 'label',
  whole = false,
  allowSingle = false,
): ExecutableWorkflow {
  const groupOf = new Int32Array(wf.jobs.length).fill(-1);
  const labelIndex = new Map<string, number>();
  const names: string[] = [];
  const sizes: number[] = [];
  const siteOf: string[] = [];
  for (let i = 0; i < wf.jobs.length; i++) {
    const j = wf.jobs[i];
    if (j.kind !== 'compute') continue;
    const raw = whole ? wf.name : getProfile(j.profiles, 'pegasus', labelKey);
    if (raw === undefined || raw === '') continue;
    const label = String(raw);
    let g = labelIndex.get(label);
    if (g === undefined) {
      g = names.length;
      labelIndex.set(label, g);
      names.push(`merge_${label.replace(/[^A-Za-z0-9_-]/g, '_')}_PID${g + 1}`);
      sizes.push(0);
      siteOf.push(j.site);
    } else if (siteOf[g] !== j.site) {
      throw new PlanError(
        `job "${j.name}": label "${label}" covers jobs on sites ${siteOf[g]} and ${j.site} (expected the jobs of a label on one site)`,
      );
    }
    groupOf[i] = g;
    sizes[g]++;
  }
  if (names.length === 0) return wf;
  if (!allowSingle) {
    // a label with a single job stays unclustered
    const remap = new Int32Array(names.length).fill(-1);
    const kept: string[] = [];
    for (let g = 0; g < names.length; g++) {
      if (sizes[g] > 1) {
        remap[g] = kept.length;
        kept.push(names[g]);
      }
    }
    for (let i = 0; i < groupOf.length; i++) if (groupOf[i] >= 0) groupOf[i] = remap[groupOf[i]];
    if (kept.length === 0) return wf;
    return contractClusters(wf, groupOf, kept, 'label');
  }
  return contractClusters(wf, groupOf, names, 'label');
}
