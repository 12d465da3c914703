import {
  clusterDagPath,
  clusterSbatchPath,
  type PlanHeader,
  type PlanJob,
  writePlan,
} from '@pegasus-ts/model';
import type { ExecJob, ExecutableWorkflow } from '../executable-workflow.js';

/** An executable job as a plan.yml job (`priority`: its emitted priority; `sbatch`: its script). */
function planJob(j: ExecJob, priority: number, sbatch: boolean): PlanJob {
  const p: PlanJob = {
    name: j.name,
    kind: j.kind,
    site: j.site,
    transformation: j.transformation,
    command: j.argv,
    id: j.abstractId,
    stagingSite: j.stagingSite,
    dataConfiguration: j.dataConfiguration,
    directory: j.directory,
    retries: j.retries,
    priority,
    inputs: j.inputs,
    outputs: j.outputs,
    stdin: j.stdin,
    stdout: j.stdout,
    stderr: j.stderr,
    profiles: j.profiles as PlanJob['profiles'],
    transfers: j.transfers,
    registrations: j.registrations,
    targets: j.targets,
    recursive: j.targets ? (j.recursive ?? false) : undefined,
    subWorkflow: j.subWorkflow,
  };
  if (j.tasks) {
    p.clustering = j.clustering;
    p.dag = clusterDagPath(j.name);
    p.tasks = j.tasks.map((t) => t.abstractId ?? t.name);
  }
  if (sbatch) p.sbatch = clusterSbatchPath(j.name);
  return p;
}

/**
 * Writes plan.yml (the format: packages/model's plan-file) streamed through `write`: one job at
 * a time, with its priority; `sbatch` names the jobs with a batch script.
 */
export function emitPlanYml(
  wf: ExecutableWorkflow,
  header: PlanHeader,
  priorities: Int32Array,
  sbatch: ReadonlySet<string>,
  write: (s: string) => void,
): void {
  writePlan(
    header,
    wf.jobs.length,
    (i) => planJob(wf.jobs[i], priorities[i], sbatch.has(wf.jobs[i].name)),
    wf.edgeFrom.length,
    (k) => [wf.jobs[wf.edgeFrom[k]].name, wf.jobs[wf.edgeTo[k]].name],
    write,
  );
}
