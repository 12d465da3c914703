import { getProfile, type Profiles, type Site, shellQuote } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecJob } from '../executable-workflow.js';
import { taskOptions } from './cluster-dag.js';

/** Whether a site is a Slurm site: a grid with `scheduler: slurm`. */
export function isSlurmSite(site: Site | undefined): boolean {
  return site?.grids.some((g) => g.scheduler === 'slurm') ?? false;
}

export type MpiLauncher = 'srun' | 'mpirun' | 'none';

/** The site's MPI launcher: pegasus profile `mpi.launcher` (srun, the default; mpirun; none = ZeroMQ). */
export function mpiLauncher(site: Site): MpiLauncher {
  const v = String(getProfile(site.profiles, 'pegasus', 'mpi.launcher') ?? 'srun');
  if (v === 'srun' || v === 'mpirun' || v === 'none') return v;
  throw new PlanError(
    `site "${site.name}": pegasus profile mpi.launcher is "${v}" (expected srun, mpirun or none)`,
  );
}

function positiveInt(p: Profiles, key: string, job: string): number | undefined {
  const v = getProfile(p, 'pegasus', key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new PlanError(`job "${job}": pegasus profile ${key} is "${v}" (expected an integer >= 1)`);
  return n;
}

/** Minutes -> Slurm `[D-]HH:MM:00`. */
export function slurmTime(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = Math.floor(minutes % 60);
  const hh = String(h).padStart(2, '0');
  const mm = String(m).padStart(2, '0');
  return d > 0 ? `${d}-${hh}:${mm}:00` : `${hh}:${mm}:00`;
}

/** The cluster runner's wall time: the allocation's minus a margin (5 %, at least 1 min, at most 10). */
export function runnerWallTime(allocationMinutes: number): number {
  const margin = Math.min(10, Math.max(1, Math.ceil(allocationMinutes * 0.05)));
  return Math.max(allocationMinutes / 2, allocationMinutes - margin);
}

export interface SbatchOptions {
  /** the submit directory (the script's output files and the .dag live under it) */
  submitDir: string;
  /** command that starts the CLI on the compute nodes (default `pegasus-ts`) */
  pegasusTs?: string;
}

/**
 * A Slurm batch script for a cluster job: #SBATCH lines from the job's profiles (pegasus
 * `nodes` (1), `ppn` (workers per node, 1), `cores` (cpus per worker), `memory` (MB per node),
 * `maxwalltime` (minutes; also globus maxwalltime), `queue`, `project`, `--gres=gpu:N` when tasks
 * ask for GPUs (N = the most one task asks: pegasus `gpus` / condor `request_gpus`), and `glite.arguments`
 * / `slurm.directives` for extra lines), and a body that runs the cluster runner on the .dag,
 * with a master rank plus nodes x ppn workers, under `srun` or `mpirun` (the site's
 * `mpi.launcher`), or with ZeroMQ over tcp when the site says `mpi.launcher: none`.
 */
export function emitSbatch(job: ExecJob, site: Site, options: SbatchOptions): string {
  const p = job.profiles;
  const nodes = positiveInt(p, 'nodes', job.name) ?? 1;
  const ppn = positiveInt(p, 'ppn', job.name) ?? 1;
  const cores = positiveInt(p, 'cores', job.name);
  const workers = nodes * ppn;
  const mem = getProfile(p, 'pegasus', 'memory');
  const wall = getProfile(p, 'pegasus', 'maxwalltime') ?? getProfile(p, 'globus', 'maxwalltime');
  const queue = getProfile(p, 'pegasus', 'queue') ?? getProfile(p, 'globus', 'queue');
  const project = getProfile(p, 'pegasus', 'project') ?? getProfile(p, 'globus', 'project');
  const dir = options.submitDir;
  const exe = options.pegasusTs ?? 'pegasus-ts';
  const L: string[] = [
    '#!/bin/bash',
    `# PEGASUS-TS GENERATED SLURM SCRIPT for cluster job ${job.name} (${job.tasks?.length ?? 0} tasks)`,
  ];
  L.push(`#SBATCH --job-name=${job.name}`);
  L.push(`#SBATCH --nodes=${nodes}`);
  L.push(`#SBATCH --ntasks=${workers + 1}`);
  if (cores !== undefined) L.push(`#SBATCH --cpus-per-task=${cores}`);
  // GPUs: as many per node as the task that asks the most (its `-g` in the .dag)
  const gpus = Math.max(0, ...(job.tasks ?? []).map((t) => taskOptions(t).gpus ?? 0));
  if (gpus > 0) L.push(`#SBATCH --gres=gpu:${gpus}`);
  if (mem !== undefined) {
    const m = Number(mem);
    if (!Number.isFinite(m) || m <= 0)
      throw new PlanError(`job "${job.name}": pegasus profile memory is "${mem}" (expected MB > 0)`);
    L.push(`#SBATCH --mem=${Math.ceil(m)}M`);
  }
  let wallMinutes: number | undefined;
  if (wall !== undefined) {
    wallMinutes = Number(wall);
    if (!Number.isFinite(wallMinutes) || wallMinutes <= 0) {
      throw new PlanError(`job "${job.name}": maxwalltime is "${wall}" (expected minutes > 0)`);
    }
    L.push(`#SBATCH --time=${slurmTime(wallMinutes)}`);
  }
  if (queue !== undefined) L.push(`#SBATCH --partition=${queue}`);
  if (project !== undefined) L.push(`#SBATCH --account=${project}`);
  L.push(`#SBATCH --output=${dir}/clusters/${job.name}.sbatch.out`);
  L.push(`#SBATCH --error=${dir}/clusters/${job.name}.sbatch.err`);
  for (const key of ['glite.arguments', 'slurm.directives']) {
    const extra = getProfile(p, 'pegasus', key);
    if (extra === undefined) continue;
    for (const d of String(extra).split(/\s*;\s*|\n/))
      if (d.trim()) L.push(`#SBATCH ${d.trim().replace(/^#SBATCH\s+/, '')}`);
  }
  L.push('', 'set -euo pipefail');
  L.push(`PEGASUS_TS=\${PEGASUS_TS:-${shellQuote(exe)}}`);
  L.push(`DAG=${shellQuote(`${dir}/clusters/${job.name}.dag`)}`);
  if (job.directory) L.push(`mkdir -p ${shellQuote(job.directory)}`, `cd ${shellQuote(job.directory)}`);
  const runnerArgs = [`-o "$DAG.out"`, `-e "$DAG.err"`, `--invocations "$DAG.invocations.yml"`];
  if (wallMinutes !== undefined)
    runnerArgs.push(`--max-wall-time ${+runnerWallTime(wallMinutes).toFixed(2)}`);
  const launcher = mpiLauncher(site);
  // Tasks inherit their rank's CPU binding: never bind ranks to single cores. Sites add launcher
  // options with the pegasus profile mpi.launcher.arguments (e.g. --mpi=pmix where Slurm's
  // MpiDefault is not pmix).
  const extra = getProfile(site.profiles, 'pegasus', 'mpi.launcher.arguments');
  const more = extra === undefined || String(extra).trim() === '' ? '' : ` ${String(extra).trim()}`;
  if (launcher === 'srun') {
    L.push(
      `exec srun --ntasks=${workers + 1} --cpu-bind=none${more} $PEGASUS_TS mpi-cluster --transport mpi ${runnerArgs.join(' ')} "$DAG"`,
    );
  } else if (launcher === 'mpirun') {
    L.push(
      `exec mpirun -np ${workers + 1} --bind-to none${more} $PEGASUS_TS mpi-cluster --transport mpi ${runnerArgs.join(' ')} "$DAG"`,
    );
  } else {
    L.push('# no MPI on this site: the master binds tcp, one worker per node connects over ZeroMQ');
    L.push('SECRET="$DAG.secret"');
    L.push(
      '[ -f "$SECRET" ] || (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d \' \\n\' > "$SECRET" && echo >> "$SECRET")',
    );
    L.push(`PORT=$((20000 + $\{SLURM_JOB_ID:-$$} % 20000))`);
    L.push('HOST=$(hostname)');
    L.push(
      `$PEGASUS_TS mpi-cluster --transport zmq --bind "tcp://*:$PORT" --secret-file "$SECRET" ${runnerArgs.join(' ')} "$DAG" &`,
    );
    L.push('MASTER=$!');
    L.push(
      `srun --ntasks=${workers} --ntasks-per-node=${ppn} $PEGASUS_TS mpi-cluster --transport zmq --worker --connect "tcp://$HOST:$PORT" --secret-file "$SECRET" &`,
    );
    L.push('wait "$MASTER"');
  }
  return `${L.join('\n')}\n`;
}
