import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AbstractWorkflow,
  argumentString,
  getProfile,
  isInputUse,
  isOutputUse,
  type Job,
  type ReplicaMatch,
  SUBMIT_FILES,
  type SubWorkflowJob,
  subWorkflowDirPath,
} from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import type { ExecJob } from '../executable-workflow.js';
import { type PlanContext, workDirOf } from '../planning-context.js';
import { describeJob } from './map-jobs.js';

/**
 * Hierarchical workflows: `pegasusWorkflow` jobs (a workflow YAML planned when the job becomes
 * ready, into `sub-workflows/ID` under this submit dir) and `condorWorkflow` jobs (a submit dir
 * planned beforehand). Here: finding each job's file, refusing a missing one and a cycle across
 * levels at plan time (naming the job's file and line), and the plan.yml job of each.
 */

/** What the planner hands down to the sub-workflows it plans (set by plan()). */
export interface SubWorkflowSetup {
  /** job id -> the resolved file (absolute): a workflow YAML, or a pre-planned submit dir */
  files: ReadonlyMap<string, string>;
  /** the parent's base dir (`--dir`) and submit dir */
  baseDir: string;
  submitDir: string;
  /** the parent's catalogs the sub-workflows are planned with (absolute paths, in the parent's submit dir) */
  catalogs: { site?: string; transformation?: string; replica?: string };
}

type Lookup = (lfn: string) => ReplicaMatch[] | undefined;

/** A local path from a replica's PFN (`file://` URL or absolute path), else undefined. */
function localPath(pfn: string): string | undefined {
  if (pfn.startsWith('file://')) return fileURLToPath(pfn);
  return isAbsolute(pfn) ? pfn : undefined;
}

/**
 * The file of a sub-workflow job: its replica catalog entry (a local PFN, site `local` first), else
 * the `file` as a path relative to the directory of the workflow that names it. Not checked.
 */
export function subWorkflowPath(job: SubWorkflowJob, workflowFile: string, lookup: Lookup): string {
  const matches = lookup(job.file) ?? [];
  const pfns = matches.flatMap((m) => m.pfns);
  pfns.sort((a, b) => Number(b.site === 'local') - Number(a.site === 'local'));
  for (const p of pfns) {
    const path = localPath(p.pfn);
    if (path) return path;
  }
  return resolve(dirname(workflowFile), job.file);
}

/** A pre-planned (condorWorkflow) file: the submit dir itself, or its plan.yml. */
function plannedDir(path: string): string {
  return basename(path) === SUBMIT_FILES.plan ? dirname(path) : path;
}

function isSubWorkflow(job: Job): job is SubWorkflowJob {
  return job.type === 'pegasusWorkflow' || job.type === 'condorWorkflow';
}

/**
 * Resolves and checks every sub-workflow job of `wf` (read from `workflowFile`), descending into
 * pegasusWorkflow files (read with `load`) so that a missing file or a cycle at any depth fails
 * now, not hours into the run. Returns job id -> resolved file for `wf`'s own sub-workflow jobs.
 */
export async function checkSubWorkflows(
  wf: AbstractWorkflow,
  workflowFile: string,
  lookup: Lookup,
  load: (file: string) => Promise<AbstractWorkflow>,
): Promise<Map<string, string>> {
  const top = new Map<string, string>();
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const visit = async (w: AbstractWorkflow, file: string, stack: string[], own: Lookup): Promise<void> => {
    for (const job of w.jobs) {
      if (!isSubWorkflow(job)) continue;
      const path = subWorkflowPath(job, file, own);
      if (job.type === 'condorWorkflow') {
        const dir = plannedDir(path);
        if (!existsSync(join(dir, SUBMIT_FILES.plan)))
          throw new PlanError(
            `${describeJob(job)}: sub-workflow "${job.file}": no ${SUBMIT_FILES.plan} in ${dir} (expected a submit dir planned beforehand)`,
          );
        if (stack.length === 1) top.set(job.id, resolve(dir));
        continue;
      }
      if (!existsSync(path) || !statSync(path).isFile())
        throw new PlanError(
          `${describeJob(job)}: sub-workflow file "${job.file}" not found (looked for ${path}; expected a workflow YAML there or a replica catalog entry for it)`,
        );
      const key = real(path);
      const at = stack.indexOf(key);
      if (at >= 0) {
        const chain = [...stack.slice(at), key].map((f) => relative(process.cwd(), f) || f).join(' -> ');
        throw new PlanError(
          `${describeJob(job)}: sub-workflow cycle: ${chain} (expected a hierarchy without cycles)`,
        );
      }
      if (stack.length === 1) top.set(job.id, resolve(path));
      const inner = await load(path);
      const innerIndex = inner.replicaCatalog;
      const innerLookup: Lookup = (lfn) => {
        const r = innerIndex?.replicas.filter((x) => !x.regex && x.lfn === lfn);
        return r?.length ? r.map((replica) => ({ replica, pfns: replica.pfns })) : own(lfn);
      };
      await visit(inner, path, [...stack, key], innerLookup);
    }
  };
  await visit(wf, workflowFile, [real(workflowFile)], lookup);
  return top;
}

/** Options a sub-workflow job's arguments may not set: the planner sets them. */
const RESERVED = new Set([
  '--dir',
  '--relative-dir',
  '-S',
  '--submit',
  '-O',
  '--output-dir',
  '-I',
  '--input-dir',
]);

/**
 * The plan.yml job of a sub-workflow job. A pegasusWorkflow job's `command` is the `pegasus-ts`
 * command line that plans it when it becomes ready: `plan FILE --dir BASE --relative-dir
 * REL/sub-workflows/ID --conf PARENT/pegasus.properties -D pegasus.catalog.*.file=PARENT/catalogs/...`
 * then the job's own arguments (planner options; an option repeated later wins), then
 * `--input-dir PARENT-WORK-DIR` when inputs of the job are made by the parent's jobs and
 * `--output-dir PARENT-WORK-DIR` when it has outputs (the parent's work dir on `local`). A
 * condorWorkflow job's `command` is empty: its submit dir is run as it is.
 */
export function subWorkflowExecJob(
  ctx: PlanContext,
  job: Job,
  level: number,
  setup: SubWorkflowSetup | undefined,
  produced: ReadonlySet<string> = new Set(),
): ExecJob {
  if (!isSubWorkflow(job)) throw new Error(`${job.id} is not a sub-workflow job`);
  const file = setup?.files.get(job.id);
  if (!setup || !file)
    throw new PlanError(`${describeJob(job)}: sub-workflow "${job.file}" was not resolved (expected plan())`);
  const retry = getProfile(job.profiles, 'dagman', 'RETRY');
  const retries = retry === undefined ? ctx.defaultRetries : Number(retry);
  if (!Number.isInteger(retries) || retries < 0)
    throw new PlanError(`${describeJob(job)}: dagman RETRY is ${retry} (expected an integer >= 0)`);
  const out: ExecJob = {
    name: job.id,
    kind: 'sub-workflow',
    site: 'local',
    transformation: job.type === 'pegasusWorkflow' ? 'pegasus::pegasus-plan' : 'condor::dagman',
    argv: [],
    abstractId: job.id,
    inputs: [],
    outputs: [],
    profiles: job.profiles,
    retries,
    level,
    subWorkflow: file,
  };
  if (job.type === 'condorWorkflow') return out;
  // Outputs of the sub-workflow the parent's jobs use (`uses` of type output): the sub-workflow
  // stages them out to the parent's work dir on `local` (`--output-dir`), where the job counts as
  // their producer, so the parent moves, stages out and registers them like any job's outputs.
  const outputs = job.uses.filter((u) => !u.forPlanning && isOutputUse(u));
  // Its inputs that jobs of the parent make: brought to the parent's work dir on `local` (the job
  // is their reader there), where the sub-workflow's planner finds them (`--input-dir`).
  const made = job.uses.filter((u) => !u.forPlanning && isInputUse(u) && produced.has(u.lfn));
  if (made.length > 0) {
    out.stagingSite = 'local';
    out.inputs = made.map((u) => u.lfn);
  }
  if (outputs.length > 0) {
    out.stagingSite = 'local';
    out.outputs = outputs.map((u) => u.lfn);
    const stageOut = outputs.filter((u) => u.stageOut).map((u) => u.lfn);
    const register = outputs.filter((u) => u.registerReplica).map((u) => u.lfn);
    if (stageOut.length) out.stageOut = stageOut;
    if (register.length) out.register = register;
  }
  const args = argumentString(job)
    .split(/\s+/)
    .filter((a) => a !== '');
  for (const a of args) {
    const opt = a.split('=')[0];
    if (RESERVED.has(opt))
      throw new PlanError(
        `${describeJob(job)}: argument ${opt} is set by the planner for a sub-workflow (expected other planner options)`,
      );
  }
  const sub = subWorkflowDirPath(job.id);
  const argv = ['plan', file, '--dir', setup.baseDir, '--relative-dir', `${ctx.relativeDir}/${sub}`];
  argv.push('--conf', join(setup.submitDir, SUBMIT_FILES.properties));
  const { site, transformation, replica } = setup.catalogs;
  if (site) argv.push('-D', `pegasus.catalog.site.file=${site}`);
  if (transformation) argv.push('-D', `pegasus.catalog.transformation.file=${transformation}`);
  if (replica) argv.push('-D', `pegasus.catalog.replica.file=${replica}`);
  out.argv = [...argv, ...args];
  if (made.length > 0) out.argv.push('--input-dir', workDirOf(ctx, 'local').path);
  if (outputs.length > 0) out.argv.push('--output-dir', workDirOf(ctx, 'local').path);
  out.subWorkflow = sub;
  return out;
}
