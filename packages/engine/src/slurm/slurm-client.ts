import path from 'node:path';
import { type CommandOptions, runSlurmCommand } from './internal/run-command.js';
import { SlurmError } from './slurm-error.js';
import { parseSbatchParsable, parseSqueue, type SlurmJobInfo, SQUEUE_FORMAT } from './slurm-parse.js';

export interface SlurmClientOptions {
  /** environment of the Slurm commands (SLURM_CONF, PATH, ...); default process.env */
  env?: NodeJS.ProcessEnv;
  /** how long one command may take before it is killed and retried (default 30 s) */
  commandTimeoutMs?: number;
  /** extra tries after a transient failure: busy controller, timeout (default 4) */
  retries?: number;
  /** pause before the first retry, doubled for each further one (default 500 ms) */
  retryDelayMs?: number;
}

export interface SubmitOptions {
  /** `--job-name` (overrides the script's own); what {@link SlurmClient.findByName} looks for */
  jobName: string;
  /** working directory of the job (`--chdir`), also where sbatch runs */
  cwd: string;
  /** added to the environment the job inherits (sbatch exports the whole environment) */
  env?: Record<string, string>;
  /** more sbatch options, e.g. `['--time=10', '--partition=debug']`, before the script */
  extraArgs?: string[];
}

/** Ids per squeue call (keeps command lines short; one call for up to this many ids). */
const POLL_CHUNK = 1000;

/** squeue -j with a single id Slurm no longer knows fails with this. */
const UNKNOWN_JOB = /Invalid job id specified/i;

function positive(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < min) {
    throw new RangeError(`SlurmClient: ${name} is ${v} (expected a number >= ${min})`);
  }
  return v;
}

/**
 * A small Slurm client over the command-line tools (sbatch, squeue, scancel), run without a
 * shell, with timeouts and retries on transient errors. Works without slurmdbd: finished jobs
 * are visible for the controller's MinJobAge seconds (300 by default).
 */
export class SlurmClient {
  private readonly env: NodeJS.ProcessEnv;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(opts: SlurmClientOptions = {}) {
    this.env = opts.env ?? process.env;
    this.timeoutMs = positive('commandTimeoutMs', opts.commandTimeoutMs, 30_000, 1);
    this.retries = Math.floor(positive('retries', opts.retries, 4, 0));
    this.retryDelayMs = positive('retryDelayMs', opts.retryDelayMs, 500, 0);
  }

  private opts(extra: Partial<CommandOptions> = {}): CommandOptions {
    return {
      env: this.env,
      timeoutMs: this.timeoutMs,
      retries: this.retries,
      retryDelayMs: this.retryDelayMs,
      ...extra,
    };
  }

  /**
   * `sbatch --parsable --job-name=NAME --chdir=CWD [extraArgs] SCRIPT`; returns the job id.
   * `script` is the batch script's path (relative to `cwd`). If sbatch failed transiently (a
   * timeout may hide a job that was accepted), a job of that name submitted since is taken
   * as the result before submitting again, so a retry never makes a second job.
   */
  async submit(script: string, o: SubmitOptions): Promise<string> {
    if (o.jobName === '' || /[\n\r]/.test(o.jobName)) {
      throw new SlurmError(
        'failed',
        `sbatch: invalid job name ${JSON.stringify(o.jobName)} (expected one line)`,
      );
    }
    if (!path.isAbsolute(o.cwd)) {
      throw new SlurmError('failed', `sbatch: cwd ${JSON.stringify(o.cwd)} is not an absolute path`);
    }
    const args = [
      '--parsable',
      `--job-name=${o.jobName}`,
      `--chdir=${o.cwd}`,
      ...(o.extraArgs ?? []),
      script,
    ];
    const since = Math.floor(Date.now() / 1000) * 1000;
    const stdout = await runSlurmCommand(
      'sbatch',
      args,
      this.opts({
        cwd: o.cwd,
        env: o.env ? { ...this.env, ...o.env } : this.env,
        beforeRetry: async () => {
          const found = (await this.findByName(o.jobName)).filter(
            (j) => j.submit !== undefined && j.submit.getTime() >= since,
          );
          return found.length > 0 ? found[found.length - 1]!.id : true;
        },
      }),
    );
    return parseSbatchParsable(stdout).id;
  }

  /**
   * The current state of these jobs: one `squeue -h -t all -j ID,ID,...` call (per 1000
   * ids). Jobs Slurm no longer knows (ended more than MinJobAge ago, or never existed) are
   * absent from the map.
   */
  async poll(ids: readonly string[]): Promise<Map<string, SlurmJobInfo>> {
    const out = new Map<string, SlurmJobInfo>();
    const unique = [...new Set(ids)];
    for (const id of unique) {
      if (!/^\d+([_+]\d+)?$/.test(id))
        throw new SlurmError('failed', `squeue: invalid job id ${JSON.stringify(id)}`);
    }
    for (let i = 0; i < unique.length; i += POLL_CHUNK) {
      const chunk = unique.slice(i, i + POLL_CHUNK);
      const stdout = await runSlurmCommand(
        'squeue',
        ['-h', '-t', 'all', '-j', chunk.join(','), '-O', SQUEUE_FORMAT],
        this.opts({ benign: UNKNOWN_JOB }),
      );
      for (const j of parseSqueue(stdout)) out.set(j.id, j);
    }
    return out;
  }

  /**
   * This user's jobs named `name` that Slurm still knows (any state), oldest first: after a
   * crash, finds the job an engine submitted just before it died.
   */
  async findByName(name: string): Promise<SlurmJobInfo[]> {
    const stdout = await runSlurmCommand(
      'squeue',
      ['-h', '-t', 'all', '--me', '-n', name, '-O', SQUEUE_FORMAT],
      this.opts(),
    );
    return parseSqueue(stdout)
      .filter((j) => j.name === name)
      .sort((a, b) => jobOrder(a.id) - jobOrder(b.id));
  }

  /**
   * `scancel IDS`: ends the jobs (Slurm sends TERM, then KILL after KillWait). With `signal`
   * (e.g. `TERM`, `USR1`), only sends it, to the batch script and every step (`--full`); the
   * job goes on if it survives it. Ids Slurm no longer knows are ignored.
   */
  async cancel(ids: readonly string[], signal?: string): Promise<void> {
    if (ids.length === 0) return;
    if (signal !== undefined && !/^(SIG)?[A-Z0-9]+$/.test(signal)) {
      throw new SlurmError(
        'failed',
        `scancel: invalid signal ${JSON.stringify(signal)} (expected e.g. TERM)`,
      );
    }
    const unique = [...new Set(ids)];
    const args = signal !== undefined ? [`--signal=${signal}`, '--full'] : [];
    for (let i = 0; i < unique.length; i += POLL_CHUNK) {
      await runSlurmCommand(
        'scancel',
        [...args, ...unique.slice(i, i + POLL_CHUNK)],
        this.opts({ benign: /Invalid job id specified|already completing or completed/i }),
      );
    }
  }
}

function jobOrder(id: string): number {
  return Number.parseInt(id, 10) || 0;
}
