import { getProfile, type Profiles } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecJob } from '../executable-workflow.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for the cluster runner's PMC-style splitter (no shell). */
export function quotePmcArg(a: string): string {
  if (SAFE.test(a)) return a;
  return `'${a.replace(/[\\'"]/g, (c) => `\\${c}`)}'`;
}

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

/** The PMC options of one task: `-m MB -c CPUS -t TRIES -p PRIO` from its profiles. */
export function taskOptions(t: ExecJob): string {
  const p = t.profiles;
  let s = '';
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
  if (mem !== undefined) s += ` -m ${Math.ceil(mem)}`;
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
  if (cpus !== undefined) s += ` -c ${Math.ceil(cpus)}`;
  s += ` -t ${t.retries + 1}`;
  const prio = getProfile(p, 'pegasus', 'pmc_priority') ?? getProfile(p, 'condor', 'priority');
  if (prio !== undefined) {
    const n = Number(prio);
    if (!Number.isInteger(n))
      throw new PlanError(`job "${t.name}": pmc_priority is "${prio}" (expected an integer)`);
    s += ` -p ${n}`;
  }
  const extra = getProfile(p, 'pegasus', 'pmc_task_arguments');
  if (extra !== undefined && String(extra).trim() !== '') s += ` ${String(extra).trim()}`;
  return s;
}

/**
 * The PMC-format .dag text of a cluster job: per task a `#@ N TRANSFORMATION ABSTRACT-ID`
 * annotation and `TASK ID [-m MB] [-c CPUS] -t TRIES [-p PRIO] EXECUTABLE ARGS...`, then one
 * `EDGE PARENT CHILD` per edge between tasks. Calls `write` with pieces (streams big clusters).
 */
export function emitClusterDag(job: ExecJob, write: (s: string) => void): void {
  const tasks = job.tasks ?? [];
  write(
    `# PEGASUS-TS GENERATED CLUSTER DAG (pegasus-mpi-cluster format)\n# CLUSTER ${job.name} (${tasks.length} tasks)\n`,
  );
  for (let k = 0; k < tasks.length; k++) {
    const t = tasks[k];
    let line = `#@ ${k + 1} ${t.transformation} ${t.abstractId ?? t.name}\nTASK ${t.name}${taskOptions(t)}`;
    for (const a of t.argv) line += ` ${quotePmcArg(a)}`;
    write(`${line}\n`);
  }
  for (const [a, b] of job.taskEdges ?? []) write(`EDGE ${tasks[a].name} ${tasks[b].name}\n`);
}

/** The .dag text as one string (small clusters, tests). */
export function clusterDagText(job: ExecJob): string {
  const parts: string[] = [];
  emitClusterDag(job, (s) => parts.push(s));
  return parts.join('');
}
