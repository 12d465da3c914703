import { join } from 'node:path';
import type { Attempt, AttemptResult, BackendEvents } from '../backend.js';
import { ProcessBackend, type ProcessLaunch, type SlotPool } from '../internal/process-backend.js';
import { jobDirectory, jobEnv, kickstartArgv, type PegasusTsCommand } from '../job-command.js';
import type { PlanJob } from '../plan-file.js';

/** The cluster runner's exit code for "stopped for wall time, resume me". */
export const WALL_TIME_EXIT = 75;

export interface ClusterBackendOptions {
  submitDir: string;
  label: string;
  pegasusTs: PegasusTsCommand;
  /** this machine's CPU slots (shared with the local backend) */
  slots: SlotPool;
  /** workers per cluster job (default: all slots) */
  workers?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Clustered jobs on this machine: `pegasus-ts mpi-cluster` on the job's .dag over ZeroMQ with
 * local workers, under kickstart. The .dag's rescue log beside it makes a retry skip the tasks
 * that finished; the tasks' records go to `clusters/NAME.dag.invocations.yml`.
 */
export class ClusterBackend extends ProcessBackend {
  readonly name = 'cluster';

  constructor(
    events: BackendEvents,
    private readonly o: ClusterBackendOptions,
  ) {
    super(events, o.slots);
  }

  private get workers(): number {
    return Math.max(1, Math.min(this.o.workers ?? this.o.slots.size, this.o.slots.size));
  }

  protected slotsFor(_job: PlanJob): number {
    return this.workers;
  }

  protected override outcomeOf(exitCode: number): AttemptResult['outcome'] {
    if (exitCode === WALL_TIME_EXIT) return 'evicted';
    return exitCode === 0 ? 'success' : 'failure';
  }

  protected launch(attempt: Attempt): ProcessLaunch {
    const { job } = attempt;
    const { submitDir, label, pegasusTs } = this.o;
    const dag = join(submitDir, job.dag as string);
    const app = [
      ...pegasusTs,
      'mpi-cluster',
      '--transport',
      'zmq',
      '--workers',
      String(this.workers),
      '-o',
      `${dag}.out`,
      '-e',
      `${dag}.err`,
      '--invocations',
      `${dag}.invocations.yml`,
      dag,
    ];
    const cwd = jobDirectory(job, submitDir);
    return {
      argv: kickstartArgv(pegasusTs, attempt, label, submitDir, app, cwd),
      cwd: submitDir,
      env: jobEnv(job, this.o.env ?? process.env),
    };
  }
}
