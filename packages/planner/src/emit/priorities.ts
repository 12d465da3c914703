import type { ExecJobKind, ExecutableWorkflow } from '../executable-workflow.js';
import { adjacencyOf, longestDepths } from '../internal/graph.js';

/**
 * Pegasus's default job priorities: create-dir 800, stage-in/inter-site 700 (plus a user
 * condor priority on stage-in), stage-out 900, cleanup 1000, everything else (compute,
 * cluster, registration) 10 x its depth in the executable graph (create-dir = 0). A job's own
 * priority (condor.priority) is kept.
 */
export function jobPriorities(wf: ExecutableWorkflow): Int32Array {
  const depth = longestDepths(adjacencyOf(wf));
  const out = new Int32Array(wf.jobs.length);
  for (let i = 0; i < wf.jobs.length; i++) {
    const j = wf.jobs[i];
    const base = defaultPriority(j.kind, depth[i]);
    if (j.priority === undefined) out[i] = base;
    else out[i] = j.kind === 'stage-in' ? base + j.priority : j.priority;
  }
  return out;
}

function defaultPriority(kind: ExecJobKind, depth: number): number {
  switch (kind) {
    case 'create-dir':
      return 800;
    case 'stage-in':
    case 'inter-site':
      return 700;
    case 'stage-out':
      return 900;
    case 'cleanup':
      return 1000;
    default:
      return 10 * depth;
  }
}
