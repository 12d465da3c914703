import { clusterDagPath } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import { type ExecJob, type ExecutableWorkflow, emptyWorkflow } from '../executable-workflow.js';
import { buildAdjacency, dedupeEdges, topologicalOrder } from '../internal/graph.js';

/** The command a cluster job runs: the cluster runner on its .dag (relative to the submit dir). */
export function clusterArgv(name: string): string[] {
  return ['pegasus-ts', 'mpi-cluster', clusterDagPath(name)];
}

/**
 * Replaces each group of jobs (`groupOf[i]` = group number, -1 = stays alone) by one cluster
 * job named `names[g]`: its tasks are the members in a topological order, edges between
 * members become task edges, every other edge is carried over to the cluster (duplicates
 * dropped). Throws PlanError when the contracted graph has a cycle (a label that would make one).
 */
export function contractClusters(
  wf: ExecutableWorkflow,
  groupOf: Int32Array,
  names: string[],
  clustering: 'horizontal' | 'label',
): ExecutableWorkflow {
  const n = wf.jobs.length;
  const groups = names.length;
  const out = emptyWorkflow(wf.name);
  const newIndex = new Int32Array(n);
  const members: number[][] = Array.from({ length: groups }, () => []);
  // topological order of the original graph so that tasks come in dependency order
  const order = topologicalOrder(buildAdjacency(n, wf.edgeFrom, wf.edgeTo));
  const clusterIndex = new Int32Array(groups).fill(-1);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    if (g < 0) {
      newIndex[i] = out.jobs.length;
      out.jobs.push(wf.jobs[i]);
    } else if (clusterIndex[g] < 0) {
      clusterIndex[g] = out.jobs.length;
      out.jobs.push(undefined as unknown as ExecJob); // filled below
    }
  }
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const g = groupOf[i];
    if (g >= 0) {
      newIndex[i] = clusterIndex[g];
      members[g].push(i);
    }
  }
  const taskPos = new Int32Array(n);
  for (const m of members) {
    for (let p = 0; p < m.length; p++) taskPos[m[p]] = p;
  }
  const taskEdges: [number, number][][] = Array.from({ length: groups }, () => []);
  for (let e = 0; e < wf.edgeFrom.length; e++) {
    const a = wf.edgeFrom[e];
    const b = wf.edgeTo[e];
    if (groupOf[a] >= 0 && groupOf[a] === groupOf[b]) {
      taskEdges[groupOf[a]].push([taskPos[a], taskPos[b]]);
      continue;
    }
    out.edgeFrom.push(newIndex[a]);
    out.edgeTo.push(newIndex[b]);
  }
  for (let g = 0; g < groups; g++) {
    out.jobs[clusterIndex[g]] = makeCluster(
      names[g],
      members[g].map((i) => wf.jobs[i]),
      taskEdges[g],
      clustering,
    );
  }
  dedupeEdges(out);
  try {
    topologicalOrder(buildAdjacency(out.jobs.length, out.edgeFrom, out.edgeTo));
  } catch {
    throw new PlanError(
      'clustering would create a dependency cycle (expected each label to cover jobs whose paths to each other stay inside the label)',
    );
  }
  return out;
}

function makeCluster(
  name: string,
  tasks: ExecJob[],
  taskEdges: [number, number][],
  clustering: 'horizontal' | 'label',
): ExecJob {
  const first = tasks[0];
  const produced = new Set<string>();
  const outputs: string[] = [];
  const stageOut: string[] = [];
  const register: string[] = [];
  let retries = 0;
  let level = first.level;
  for (const t of tasks) {
    for (const f of t.outputs) {
      if (!produced.has(f)) {
        produced.add(f);
        outputs.push(f);
      }
    }
    if (t.stageOut) for (const f of t.stageOut) stageOut.push(f);
    if (t.register) for (const f of t.register) register.push(f);
    if (t.retries > retries) retries = t.retries;
    if (t.level < level) level = t.level;
  }
  const inputSet = new Set<string>();
  for (const t of tasks) for (const f of t.inputs) if (!produced.has(f)) inputSet.add(f);
  const job: ExecJob = {
    name,
    kind: 'cluster',
    site: first.site,
    transformation: 'pegasus::mpiexec',
    argv: clusterArgv(name),
    stagingSite: first.stagingSite,
    directory: first.directory,
    dataConfiguration: first.dataConfiguration,
    inputs: [...inputSet],
    outputs,
    stageOut: stageOut.length ? stageOut : undefined,
    register: register.length ? register : undefined,
    profiles: first.profiles,
    retries,
    level,
    tasks,
    taskEdges,
    clustering,
  };
  return job;
}

/** `ns::name:ver` -> `ns-name-ver` with `.`, `+`, `=` replaced by `_` (Pegasus's cluster names). */
export function clusterNamePart(transformation: string): string {
  return transformation
    .replace('::', '-')
    .replace(/:([^:]*)$/, '-$1')
    .replace(/[.+=]/g, '_');
}
