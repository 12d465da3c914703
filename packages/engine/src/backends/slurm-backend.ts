import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '@pegasus-ts/model';
import type { Attempt, AttemptResult, Backend, BackendEvents } from '../backend.js';
import { clusterProgress } from '../internal/cluster-progress.js';
import { exitFromRecord } from '../internal/record-exit.js';
import { jobCommand, jobEnv, kickstartArgv, type PegasusTsCommand } from '../job-command.js';
import type { PlanJob } from '../plan-file.js';
import { SlurmClient } from '../slurm/slurm-client.js';
import type { SlurmJobInfo } from '../slurm/slurm-parse.js';
import { WALL_TIME_EXIT } from './cluster-backend.js';

export interface SlurmBackendOptions {
  submitDir: string;
  label: string;
  wfUuid: string;
  pegasusTs: PegasusTsCommand;
  env?: NodeJS.ProcessEnv;
  /** how often squeue/scontrol is asked about every job in flight (default 1000 ms) */
  pollMs?: number;
  client?: SlurmClient;
}

interface InFlight {
  attempt: Attempt;
  id?: string;
  running: boolean;
  started: number;
  /** polls in a row in which Slurm did not know the job */
  misses: number;
  /** when Slurm last listed the job (or it was submitted or adopted), ms */
  seen: number;
}

/**
 * How long squeue must have stopped listing a job before the engine judges it from the files it
 * left: at least this long and 3 polls in a row. A count of polls alone assumed a fast machine
 * (3 polls of 200 ms is 0.6 s); a loaded controller may answer late or a job be listed late.
 */
const GONE_AFTER_MS = 30_000;

/** Slurm job names: unique per attempt, so a restarted engine finds a job it submitted just before dying. */
export function slurmJobName(job: PlanJob, seq: number, wfUuid: string): string {
  return `${job.name}.${seq}.${wfUuid.slice(0, 8) || 'pegasus'}`;
}

/**
 * Jobs on a Slurm site: a clustered job's `clusters/NAME.sbatch` (the cluster runner under MPI in
 * the allocation) or, for a single compute job, a small script running it under kickstart. The
 * engine polls Slurm itself (one scontrol call for all jobs in flight per interval) rather than
 * waiting in `sbatch --wait`, whose polling is far too slow; `cancel` is scancel.
 */
export class SlurmBackend implements Backend {
  readonly name = 'slurm';
  private readonly client: SlurmClient;
  private readonly inFlight = new Map<number, InFlight>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly events: BackendEvents,
    private readonly o: SlurmBackendOptions,
  ) {
    this.client = o.client ?? new SlurmClient({ env: o.env });
  }

  hasRoom(_job: PlanJob): boolean {
    return true;
  }

  start(attempt: Attempt): void {
    const f: InFlight = { attempt, running: false, started: Date.now(), misses: 0, seen: Date.now() };
    this.inFlight.set(attempt.index, f);
    this.submit(f).catch((e: Error) => {
      this.inFlight.delete(attempt.index);
      this.events.ended(attempt.index, { outcome: 'failure', exitCode: -1, duration: 0, reason: e.message });
    });
  }

  adopt(attempt: Attempt, schedId: string | undefined): void {
    const f: InFlight = {
      attempt,
      id: schedId,
      running: false,
      started: Date.now(),
      misses: 0,
      seen: Date.now(),
    };
    this.inFlight.set(attempt.index, f);
    if (schedId) {
      this.events.log(`adopted ${attempt.job.name} (attempt ${attempt.seq}, Slurm job ${schedId})`);
      this.arm();
      return;
    }
    const name = slurmJobName(attempt.job, attempt.seq, this.o.wfUuid);
    this.client.findByName(name).then(
      (found) => {
        const live = found[0];
        if (!live) {
          this.inFlight.delete(attempt.index);
          this.events.ended(attempt.index, {
            outcome: 'lost',
            exitCode: -1,
            duration: 0,
            reason: 'never reached Slurm',
          });
          return;
        }
        f.id = live.id;
        this.events.submitted(attempt.index, live.id);
        this.arm();
      },
      (e: Error) => {
        this.inFlight.delete(attempt.index);
        this.events.ended(attempt.index, { outcome: 'lost', exitCode: -1, duration: 0, reason: e.message });
      },
    );
  }

  cancel(index: number): void {
    const f = this.inFlight.get(index);
    if (f?.id)
      this.client.cancel([f.id]).catch((e: Error) => this.events.log(`scancel ${f.id}: ${e.message}`));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async submit(f: InFlight): Promise<void> {
    const { job, seq } = f.attempt;
    const script = job.sbatch ? join(this.o.submitDir, job.sbatch) : this.computeScript(f.attempt);
    const env: Record<string, string> = { PEGASUS_TS: this.o.pegasusTs.join(' ') };
    const id = await this.client.submit(script, {
      jobName: slurmJobName(job, seq, this.o.wfUuid),
      cwd: this.o.submitDir,
      env: { ...(jobEnv(job, {}) as Record<string, string>), ...env },
    });
    f.id = id;
    this.events.submitted(f.attempt.index, id);
    this.arm();
  }

  /** jobs/NAME.NNN.sbatch for a compute job: kickstart runs it and writes its record. */
  private computeScript(a: Attempt): string {
    const { job } = a;
    const { pegasusTs, submitDir } = this.o;
    const argv = kickstartArgv(pegasusTs, a, this.o.label, submitDir, jobCommand(pegasusTs, job, submitDir));
    const cores = Number(job.profiles.pegasus?.cores ?? 1) || 1;
    const lines = ['#!/bin/bash', `#SBATCH --ntasks=1`, `#SBATCH --cpus-per-task=${cores}`];
    const queue = job.profiles.pegasus?.queue;
    if (queue) lines.push(`#SBATCH --partition=${String(queue)}`);
    const wall = Number(job.profiles.pegasus?.maxwalltime ?? 0);
    if (wall > 0) lines.push(`#SBATCH --time=${wall}`);
    lines.push(`#SBATCH --output=${a.paths.stdout}.slurm`, `#SBATCH --error=${a.paths.stderr}.slurm`);
    lines.push(`exec ${argv.map(shellQuote).join(' ')}`, '');
    const path = `${a.paths.record.replace(/\.yml$/, '')}.sbatch`;
    writeFileSync(path, lines.join('\n'), { mode: 0o755 });
    return path;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.polling) void this.poll();
    }, this.o.pollMs ?? 1000);
  }

  private async poll(): Promise<void> {
    const ids = [...this.inFlight.values()].filter((f) => f.id).map((f) => f.id as string);
    if (ids.length === 0) {
      if (this.inFlight.size === 0) this.close();
      return;
    }
    this.polling = true;
    try {
      let info: Map<string, SlurmJobInfo>;
      try {
        info = await this.client.poll(ids);
      } catch (e) {
        this.events.log(`slurm poll failed (will retry): ${(e as Error).message}`);
        return;
      }
      for (const [index, f] of [...this.inFlight]) {
        if (!f.id) continue;
        const s = info.get(f.id);
        if (!s) {
          if (++f.misses < 3 || Date.now() - f.seen < GONE_AFTER_MS) continue;
          const r = await this.judgeGone(f);
          if (this.inFlight.get(index) === f) this.finish(index, f, r);
          continue;
        }
        f.misses = 0;
        f.seen = Date.now();
        if (s.state === 'running' && !f.running) {
          f.running = true;
          f.started = Date.now();
          this.events.executing(index, f.id);
        }
        const r = this.judge(f, s);
        if (r) this.finish(index, f, r);
      }
    } finally {
      this.polling = false;
    }
  }

  private finish(index: number, f: InFlight, r: AttemptResult): void {
    this.inFlight.delete(index);
    if (!f.running && f.id) this.events.executing(index, f.id);
    this.events.ended(index, r);
  }

  /** The verdict on a job Slurm reports, or undefined while it is pending or running. */
  private judge(f: InFlight, s: SlurmJobInfo): AttemptResult | undefined {
    const duration = (Date.now() - f.started) / 1000;
    const exitCode = s.signal ? 128 + s.signal : s.exitCode;
    const why = `Slurm job ${f.id} ${s.state}${s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}, exit code ${exitCode}`;
    switch (s.state) {
      case 'pending':
      case 'running':
      case 'unknown':
        return undefined;
      case 'completed':
        return { outcome: 'success', exitCode: 0, duration };
      case 'timeout':
        return { outcome: 'evicted', exitCode, duration, reason: why };
      case 'node_fail':
      case 'preempted':
        return { outcome: 'lost', exitCode, duration, reason: why };
      case 'failed':
        if (exitCode === WALL_TIME_EXIT)
          return { outcome: 'evicted', exitCode, duration, reason: `${why}: drained for wall time` };
        return { outcome: 'failure', exitCode, duration, reason: why };
      default:
        return { outcome: 'failure', exitCode, duration, reason: why };
    }
  }

  /** Slurm forgot the job (MinJobAge passed): judge from what it left. */
  private async judgeGone(f: InFlight): Promise<AttemptResult> {
    const { job, paths } = f.attempt;
    const duration = (Date.now() - f.started) / 1000;
    if (job.kind === 'cluster' && job.dag) {
      let p: { tasks: number; done: number };
      try {
        p = await clusterProgress(join(this.o.submitDir, job.dag));
      } catch (e) {
        const reason = `Slurm job ${f.id} gone; its rescue log cannot be read: ${(e as Error).message}`;
        return { outcome: 'failure', exitCode: -1, duration, reason };
      }
      if (p.tasks > 0 && p.done === p.tasks) return { outcome: 'success', exitCode: 0, duration };
      return {
        outcome: 'failure',
        exitCode: -1,
        duration,
        reason: `Slurm job ${f.id} gone; ${p.done} of ${p.tasks} tasks done`,
      };
    }
    const code = exitFromRecord(paths.record);
    if (code === undefined)
      return { outcome: 'lost', exitCode: -1, duration, reason: `Slurm job ${f.id} gone without a record` };
    return {
      outcome: code === 0 ? 'success' : 'failure',
      exitCode: code,
      duration,
      reason: `exit code ${code}`,
    };
  }
}
