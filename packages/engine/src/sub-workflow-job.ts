import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import type { EngineOptions, RunResult } from './engine.js';
import { EngineError } from './errors.js';
import type { PegasusTsCommand } from './job-command.js';
import type { PlanJob } from './plan-file.js';
import { runForeground } from './run-workflow.js';

/**
 * Sub-workflow jobs (plan.yml kind `sub-workflow`, from `pegasusWorkflow`/`condorWorkflow` jobs):
 * the job's attempt is `pegasus-ts sub-workflow DIR -- PLAN-ARGS` under kickstart, like any local
 * job, so the parent engine journals, retries, cancels and adopts it as it does the others. That
 * command plans the sub-workflow into DIR if it is not planned yet (as pegasus-plan does in
 * Pegasus's pre-script) and runs an engine on DIR in the foreground; the job's exit code is the
 * sub-workflow's. A retry or a resumed parent runs the engine on the same DIR again, which resumes
 * it from its own jobstate.log: jobs done at the lower level are not run again.
 */

/** The absolute submit dir of a sub-workflow job of the workflow in `submitDir`. */
export function subWorkflowDir(job: PlanJob, submitDir: string): string {
  if (!job.subWorkflow) throw new EngineError(`job ${job.name}: no subWorkflow dir in the plan`);
  return isAbsolute(job.subWorkflow) ? job.subWorkflow : join(submitDir, job.subWorkflow);
}

/** The application a sub-workflow job's attempt runs (kickstart wraps it). */
export function subWorkflowCommand(
  pegasusTs: PegasusTsCommand,
  job: PlanJob,
  submitDir: string,
  runArgs: readonly string[] = [],
): string[] {
  return [...pegasusTs, 'sub-workflow', ...runArgs, subWorkflowDir(job, submitDir), '--', ...job.command];
}

/**
 * The run options of an engine that its sub-workflows' engines get too (`pegasus-ts sub-workflow`
 * options): `--slots` (this machine's slots: the lower engine runs on it as well), `--cluster-workers`
 * and the Slurm `--poll` interval, those given only. The environment goes down with the process.
 */
export function subWorkflowRunArgs(o: Pick<EngineOptions, 'slots' | 'clusterWorkers' | 'slurm'>): string[] {
  const args: string[] = [];
  if (o.slots !== undefined) args.push('--slots', String(o.slots));
  if (o.clusterWorkers !== undefined) args.push('--cluster-workers', String(o.clusterWorkers));
  if (o.slurm?.pollMs !== undefined) args.push('--poll', String(o.slurm.pollMs));
  return args;
}

export interface SubWorkflowOptions extends EngineOptions {
  /** the `pegasus-ts` arguments that plan it (`plan FILE ...`); empty: planned beforehand */
  planCommand: readonly string[];
  /** runs `pegasus-ts` with these arguments in this process; resolves to its exit code */
  pegasusTsInProcess: (args: readonly string[]) => Promise<number>;
}

/**
 * `pegasus-ts sub-workflow`: plans the sub-workflow into `submitDir` unless its plan.yml is there
 * (a planning cut short leaves a dir without plan.yml: it is planned again from scratch), then
 * runs it to its end in this process.
 */
export async function runSubWorkflow(o: SubWorkflowOptions): Promise<RunResult> {
  const dir = o.submitDir;
  if (!existsSync(join(dir, SUBMIT_FILES.plan))) {
    if (o.planCommand.length === 0)
      throw new EngineError(`${dir}: not a submit directory (no plan.yml; expected a planned sub-workflow)`);
    if (o.planCommand[0] !== 'plan')
      throw new EngineError(
        `${dir}: the sub-workflow's command starts with "${o.planCommand[0]}" (expected plan)`,
      );
    rmSync(dir, { recursive: true, force: true });
    o.log?.(`planning the sub-workflow into ${dir}`);
    const code = await o.pegasusTsInProcess(o.planCommand);
    if (code !== 0) throw new EngineError(`${dir}: planning the sub-workflow failed (exit code ${code})`);
  }
  return runForeground(o);
}
