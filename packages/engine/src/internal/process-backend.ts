import type { Attempt, AttemptResult, Backend, BackendEvents } from '../backend.js';
import type { PlanJob } from '../plan-file.js';
import { ProcessWatcher, startDetached } from './detached-process.js';
import { exitFromRecord } from './record-exit.js';

/** What a process backend needs to know about starting one attempt. */
export interface ProcessLaunch {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** CPU slots of this machine, shared by every process backend (local jobs and clustered jobs). */
export class SlotPool {
  used = 0;
  constructor(readonly size: number) {}
}

interface Running {
  pid: number;
  marker: string;
  started: number;
}

/**
 * Runs each attempt as a detached `pegasus-ts kickstart` process on this machine, within a
 * number of CPU slots. The attempt's record file is unique to it and appears in the process's
 * command line, which is how a restarted engine finds the process again; the record, once
 * written, is the verdict (the exit code when the process was not our child).
 */
export abstract class ProcessBackend implements Backend {
  abstract readonly name: string;
  private readonly running = new Map<number, Running>();
  private readonly watcher = new ProcessWatcher();

  constructor(
    protected readonly events: BackendEvents,
    protected readonly pool: SlotPool,
  ) {}

  /** CPU slots one attempt of `job` takes (at most `slots`). */
  protected abstract slotsFor(job: PlanJob): number;
  /** The command of one attempt (may prepare files first; throws to fail the attempt). */
  protected abstract launch(attempt: Attempt): ProcessLaunch;
  /** Judges an exit code (the cluster backend maps the runner's wall-time code). */
  protected outcomeOf(exitCode: number): AttemptResult['outcome'] {
    return exitCode === 0 ? 'success' : 'failure';
  }

  hasRoom(job: PlanJob): boolean {
    return this.pool.used + Math.min(this.slotsFor(job), this.pool.size) <= this.pool.size;
  }

  start(attempt: Attempt): void {
    const { index } = attempt;
    const slots = Math.min(this.slotsFor(attempt.job), this.pool.size);
    let launch: ProcessLaunch;
    try {
      launch = this.launch(attempt);
    } catch (e) {
      this.end(index, { outcome: 'failure', exitCode: -1, duration: 0, reason: (e as Error).message });
      return;
    }
    this.pool.used += slots;
    const started = Date.now();
    const pid = startDetached(
      launch.argv,
      { cwd: launch.cwd, env: launch.env, stdout: attempt.paths.stderr, stderr: attempt.paths.stderr },
      (code) => {
        this.pool.used -= slots;
        this.running.delete(index);
        this.end(index, this.verdict(code, started));
      },
      (message) => {
        this.pool.used -= slots;
        this.running.delete(index);
        this.end(index, { outcome: 'failure', exitCode: 127, duration: 0, reason: message });
      },
    );
    if (pid === undefined) return;
    this.running.set(index, { pid, marker: attempt.paths.record, started });
    this.events.executing(index, String(pid));
  }

  adopt(attempt: Attempt, schedId: string | undefined, again = true): void {
    const { index, paths } = attempt;
    const pid = ProcessWatcher.find(paths.record, schedId ? Number(schedId) : undefined);
    if (pid === undefined) {
      // A child forked by the dead engine may not have exec'd yet: look once more, a moment later.
      if (again && exitFromRecord(paths.record) === undefined) {
        setTimeout(() => this.adopt(attempt, schedId, false), 300);
        return;
      }
      this.judgeFinished(attempt);
      return;
    }
    const slots = Math.min(this.slotsFor(attempt.job), this.pool.size);
    this.pool.used += slots;
    const started = Date.now();
    this.running.set(index, { pid, marker: paths.record, started });
    this.events.log(`adopted ${attempt.job.name} (attempt ${attempt.seq}, pid ${pid})`);
    this.events.executing(index, String(pid));
    this.watcher.watch(pid, paths.record, () => {
      this.pool.used -= slots;
      this.running.delete(index);
      this.judgeFinished(attempt, started);
    });
  }

  cancel(index: number): void {
    const r = this.running.get(index);
    if (!r) return;
    try {
      process.kill(r.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }

  close(): void {
    this.watcher.close();
  }

  /** An attempt whose process is gone: its record says how it ended; no record = lost. */
  private judgeFinished(attempt: Attempt, started?: number): void {
    const code = exitFromRecord(attempt.paths.record);
    if (code === undefined) {
      this.end(attempt.index, {
        outcome: 'lost',
        exitCode: -1,
        duration: 0,
        reason: 'the attempt left no invocation record (it never ran, or was killed)',
      });
      return;
    }
    this.end(attempt.index, this.verdict(code, started ?? Date.now()));
  }

  private verdict(code: number, started: number): AttemptResult {
    const outcome = this.outcomeOf(code);
    return {
      outcome,
      exitCode: code,
      duration: (Date.now() - started) / 1000,
      reason: outcome === 'success' ? undefined : `exit code ${code}`,
    };
  }

  private end(index: number, result: AttemptResult): void {
    this.events.ended(index, result);
  }
}
