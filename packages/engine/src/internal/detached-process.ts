import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { findProcesses, isRunning } from './proc.js';

export interface DetachedOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** the process's own stdout/stderr go here (appended) */
  stdout: string;
  stderr: string;
}

/**
 * Starts `argv` in its own session, so it outlives the engine: a kill -9 of the engine leaves
 * the job running, and the next engine adopts it. Calls `onExit(code)` when it ends (128+N for
 * signal N); `onError` when it cannot start.
 */
export function startDetached(
  argv: readonly string[],
  o: DetachedOptions,
  onExit: (code: number) => void,
  onError: (message: string) => void,
): number | undefined {
  let out: number | undefined;
  let err: number | undefined;
  try {
    mkdirSync(dirname(o.stdout), { recursive: true });
    out = openSync(o.stdout, 'a');
    err = o.stderr === o.stdout ? out : openSync(o.stderr, 'a');
    const child = spawn(argv[0], argv.slice(1), {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['ignore', out, err],
    });
    let done = false;
    child.once('error', (e) => {
      if (done) return;
      done = true;
      onError(`cannot start ${argv[0]}: ${e.message}`);
    });
    child.once('exit', (code, signal) => {
      if (done) return;
      done = true;
      onExit(code ?? 128 + signalNumber(signal));
    });
    return child.pid;
  } catch (e) {
    onError(`cannot start ${argv[0]}: ${(e as Error).message}`);
    return undefined;
  } finally {
    if (out !== undefined) closeSync(out);
    if (err !== undefined && err !== out) closeSync(err);
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (SIGNALS[signal] ?? 0) : 0;
}

/**
 * Watches processes that are not our children (adopted after a restart): polls /proc every
 * `intervalMs` and calls `onGone` once the process is gone. The marker (a path unique to the
 * attempt, found in its command line) guards against pid reuse.
 */
export class ProcessWatcher {
  private readonly watched = new Map<number, { marker: string; onGone: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 200) {}

  watch(pid: number, marker: string, onGone: () => void): void {
    this.watched.set(pid, { marker, onGone });
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
    }
  }

  /** The pid of a live process with `marker` in its command line (`pid` first if given). */
  static find(marker: string, pid?: number): number | undefined {
    if (pid !== undefined && isRunning(pid, marker)) return pid;
    return findProcesses(marker)[0];
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private poll(): void {
    for (const [pid, w] of this.watched) {
      if (isRunning(pid, w.marker)) continue;
      this.watched.delete(pid);
      w.onGone();
    }
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
