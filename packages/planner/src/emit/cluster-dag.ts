import { annotationLine, edgeLine, type TaskLineFields, taskLine } from '@pegasus-ts/cluster/dag-format';
import { getProfile, type Profiles } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecJob } from '../executable-workflow.js';

function numberProfile(
  p: Profiles,
  keys: [ns: 'pegasus' | 'condor', key: string][],
  what: string,
  task: string,
): number | undefined {
  for (const [ns, key] of keys) {
    const v = getProfile(p, ns, key);
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      throw new PlanError(`job "${task}": ${ns} profile ${key} is "${v}" (expected ${what})`);
    }
    return n;
  }
  return undefined;
}

/** The PMC options of one task (`-m MB -c CPUS -g GPUS -t TRIES -p PRIO` and extra) from its profiles. */
export function taskOptions(t: ExecJob): Omit<TaskLineFields, 'name' | 'argv'> {
  const p = t.profiles;
  const mem = numberProfile(
    p,
    [
      ['pegasus', 'pmc_request_memory'],
      ['pegasus', 'memory'],
      ['condor', 'request_memory'],
    ],
    'a number of MB >= 0',
    t.name,
  );
  const cpus = numberProfile(
    p,
    [
      ['pegasus', 'pmc_request_cpus'],
      ['pegasus', 'cores'],
      ['condor', 'request_cpus'],
    ],
    'a number of CPUs >= 0',
    t.name,
  );
  const gpus = numberProfile(
    p,
    [
      ['pegasus', 'gpus'],
      ['condor', 'request_gpus'],
    ],
    'a number of GPUs >= 0',
    t.name,
  );
  const prio = getProfile(p, 'pegasus', 'pmc_priority') ?? getProfile(p, 'condor', 'priority');
  let priority: number | undefined;
  if (prio !== undefined) {
    priority = Number(prio);
    if (!Number.isInteger(priority))
      throw new PlanError(`job "${t.name}": pmc_priority is "${prio}" (expected an integer)`);
  }
  const extra = getProfile(p, 'pegasus', 'pmc_task_arguments');
  return {
    memory: mem === undefined ? undefined : Math.ceil(mem),
    cpus: cpus === undefined ? undefined : Math.ceil(cpus),
    gpus: gpus === undefined || gpus === 0 ? undefined : Math.ceil(gpus),
    tries: t.retries + 1,
    priority,
    extra: extra === undefined ? undefined : String(extra),
  };
}

/**
 * The PMC-format .dag text of a cluster job (the lines: @pegasus-ts/cluster/dag-format): per task
 * a `#@ N TRANSFORMATION ABSTRACT-ID` annotation and `TASK ID [-m MB] [-c CPUS] [-g GPUS] -t TRIES [-p PRIO]
 * EXECUTABLE ARGS...`, then one `EDGE PARENT CHILD` per edge between tasks. Calls `write` with pieces (streams big clusters).
 */
export function emitClusterDag(job: ExecJob, write: (s: string) => void): void {
  const tasks = job.tasks ?? [];
  write(
    `# PEGASUS-TS GENERATED CLUSTER DAG (pegasus-mpi-cluster format)\n# CLUSTER ${job.name} (${tasks.length} tasks)\n`,
  );
  for (let k = 0; k < tasks.length; k++) {
    const t = tasks[k];
    let line: string;
    try {
      line = taskLine({ name: t.name, ...taskOptions(t), argv: t.argv });
    } catch (e) {
      throw new PlanError((e as Error).message);
    }
    write(`${annotationLine(k + 1, t.transformation, t.abstractId ?? t.name)}\n${line}\n`);
  }
  for (const [a, b] of job.taskEdges ?? []) write(`${edgeLine(tasks[a].name, tasks[b].name)}\n`);
}

/** The .dag text as one string (small clusters, tests). */
export function clusterDagText(job: ExecJob): string {
  const parts: string[] = [];
  emitClusterDag(job, (s) => parts.push(s));
  return parts.join('');
}
