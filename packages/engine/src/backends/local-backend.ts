import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import type { Attempt, BackendEvents } from '../backend.js';
import { isDataJob, writeTransferSpec } from '../data-job.js';
import { ProcessBackend, type ProcessLaunch, type SlotPool } from '../internal/process-backend.js';
import { jobCommand, jobDirectory, jobEnv, kickstartArgv, type PegasusTsCommand } from '../job-command.js';
import type { PlanJob } from '../plan-file.js';
import { subWorkflowCommand } from '../sub-workflow-job.js';

export interface LocalBackendOptions {
  submitDir: string;
  label: string;
  pegasusTs: PegasusTsCommand;
  /** this machine's CPU slots (shared with the cluster backend); a job takes its pegasus `cores`, at most all */
  slots: SlotPool;
  env?: NodeJS.ProcessEnv;
  /** `pegasus.integrity.checking` (none, full, nosymlink), passed to `pegasus-ts transfer --integrity` */
  integrity?: string;
  /** the engine's run options its sub-workflows' engines get (`subWorkflowRunArgs`) */
  subWorkflowArgs?: readonly string[];
}

/**
 * Compute, data and registration jobs on this machine, each through `pegasus-ts kickstart`: data
 * jobs run `pegasus-ts transfer --spec jobs/NAME.transfer.json [--jobs <pegasus transfer.threads>]`, registration jobs
 * `pegasus-ts rc-client --catalog output-replicas.yml --insert jobs/NAME.register.json`, sub-workflow
 * jobs `pegasus-ts sub-workflow DIR -- PLAN-ARGS` (sub-workflow-job.ts).
 */
export class LocalBackend extends ProcessBackend {
  readonly name = 'local';

  constructor(
    events: BackendEvents,
    private readonly o: LocalBackendOptions,
  ) {
    super(events, o.slots);
  }

  protected slotsFor(job: PlanJob): number {
    if (isDataJob(job) || job.kind === 'registration' || job.kind === 'sub-workflow') return 1;
    const cores = Number(job.profiles.pegasus?.cores ?? 1);
    return Number.isInteger(cores) && cores > 0 ? cores : 1;
  }

  protected launch(attempt: Attempt): ProcessLaunch {
    const { job } = attempt;
    const { submitDir, label, pegasusTs } = this.o;
    const env = jobEnv(job, this.o.env ?? process.env);
    if (job.kind === 'registration') {
      const list = join(submitDir, 'jobs', `${job.name}.register.json`);
      writeFileSync(list, `${JSON.stringify(job.registrations ?? [])}\n`);
      const app = [
        ...pegasusTs,
        'rc-client',
        '--catalog',
        join(submitDir, SUBMIT_FILES.outputReplicas),
        '--insert',
        list,
      ];
      return {
        argv: kickstartArgv(pegasusTs, attempt, label, submitDir, app, submitDir),
        cwd: submitDir,
        env,
      };
    }
    if (job.kind === 'sub-workflow') {
      const app = subWorkflowCommand(pegasusTs, job, submitDir, this.o.subWorkflowArgs);
      return {
        argv: kickstartArgv(pegasusTs, attempt, label, submitDir, app, submitDir),
        cwd: submitDir,
        env,
      };
    }
    if (isDataJob(job)) {
      const spec = join(submitDir, 'jobs', `${job.name}.transfer.json`);
      writeTransferSpec(job, spec);
      const app = [...pegasusTs, 'transfer', '--spec', spec];
      if (this.o.integrity) app.push('--integrity', this.o.integrity);
      // pegasus.transfer.threads: how many files the job moves at once (the planner sets it)
      const threads = job.profiles.pegasus?.['transfer.threads'];
      if (threads !== undefined) app.push('--jobs', String(threads));
      return {
        argv: kickstartArgv(pegasusTs, attempt, label, submitDir, app, submitDir),
        cwd: submitDir,
        env,
      };
    }
    const cwd = jobDirectory(job, submitDir);
    return {
      argv: kickstartArgv(pegasusTs, attempt, label, submitDir, jobCommand(pegasusTs, job, submitDir), cwd),
      cwd: submitDir,
      env,
    };
  }
}
