import { join } from 'node:path';
import type { Attempt, BackendEvents } from '../backend.js';
import { isDataJob, writeTransferSpec } from '../data-job.js';
import { ProcessBackend, type ProcessLaunch } from '../internal/process-backend.js';
import { jobDirectory, jobEnv, kickstartArgv, type PegasusTsCommand } from '../job-command.js';
import type { PlanJob } from '../plan-file.js';

export interface LocalBackendOptions {
  submitDir: string;
  label: string;
  pegasusTs: PegasusTsCommand;
  /** jobs at once (CPU slots; a job takes its pegasus `cores`, at most all) */
  slots: number;
  env?: NodeJS.ProcessEnv;
  /** `pegasus.integrity.checking` (none, full, nosymlink), passed to `pegasus-ts transfer --integrity` */
  integrity?: string;
}

/**
 * Compute and data jobs on this machine, each through `pegasus-ts kickstart`: data jobs run
 * `pegasus-ts transfer --spec jobs/NAME.transfer.json`.
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
    if (isDataJob(job)) return 1;
    const cores = Number(job.profiles.pegasus?.cores ?? 1);
    return Number.isInteger(cores) && cores > 0 ? cores : 1;
  }

  protected launch(attempt: Attempt): ProcessLaunch {
    const { job } = attempt;
    const { submitDir, label, pegasusTs } = this.o;
    const env = jobEnv(job, this.o.env ?? process.env);
    if (isDataJob(job)) {
      const spec = join(submitDir, 'jobs', `${job.name}.transfer.json`);
      writeTransferSpec(job, spec);
      const app = [...pegasusTs, 'transfer', '--spec', spec];
      if (this.o.integrity) app.push('--integrity', this.o.integrity);
      return {
        argv: kickstartArgv(pegasusTs, attempt, label, submitDir, app, submitDir),
        cwd: submitDir,
        env,
      };
    }
    const cwd = jobDirectory(job, submitDir);
    return {
      argv: kickstartArgv(pegasusTs, attempt, label, submitDir, job.command, cwd),
      cwd: submitDir,
      env,
    };
  }
}
