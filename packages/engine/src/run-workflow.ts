import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBSTATE_LOG, SUBMIT_FILES, startedBefore } from '@pegasus-ts/model';
import { attemptPaths } from './backend.js';
import { Engine, type EngineOptions, type RunResult } from './engine.js';
import { EngineError } from './errors.js';
import { ProcessWatcher } from './internal/detached-process.js';
import { pidAlive } from './internal/proc.js';
import { readJobstate } from './jobstate-log.js';
import { loadPlan } from './plan-file.js';
import { liveEngine } from './submit-lock.js';

/** Checks that `dir` is a submit dir; returns its absolute path. */
export function submitDirOf(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(join(abs, SUBMIT_FILES.plan))) {
    if (!existsSync(abs)) throw new EngineError(`${dir}: no such directory`);
    throw new EngineError(`${dir}: not a submit directory (no plan.yml; plan one with pegasus-ts plan)`);
  }
  return abs;
}

/**
 * Runs the workflow in this process until it ends (`run --foreground`). SIGINT/SIGTERM/SIGHUP stop
 * it cleanly (running jobs cancelled, the journal closed): a later run resumes. These signals
 * (from `pegasus-ts remove`, ^C, `kill`, `timeout`, a closed terminal, or a kill of the process
 * group the engine shares with whatever started it) are the only outside cause of a stop, and
 * the log names the signal.
 */
export async function runForeground(o: EngineOptions): Promise<RunResult> {
  const engine = await Engine.open({ ...o, submitDir: submitDirOf(o.submitDir) });
  const onSignal = (sig: NodeJS.Signals): void =>
    engine.stop(
      `received ${sig} (pegasus-ts remove, or a signal sent to this process or to its process group)`,
    );
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    return await engine.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

export interface DetachOptions {
  submitDir: string;
  /** the command that runs the engine in the foreground, e.g. [node, pegasus-ts.js, 'run', '--foreground'] */
  foregroundCommand: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** how long to wait for the engine to take the lock (default 15 s) */
  timeoutMs?: number;
}

/** What `startDetached` saw: the engine runs, or it already ran to its end. */
export interface DetachedStart {
  pid: number;
  /** set when the engine ended before this returned (nothing left to do, or it finished quickly) */
  exitCode?: number;
  /** its last log line then */
  lastLine?: string;
}

/**
 * Starts the engine in the background (the default of `pegasus-ts run`): a detached process with
 * its output in `engine.log`. Returns once it holds the lock, or once it has run and ended (a
 * workflow with nothing left to do ends at once); an engine that exits without having started
 * (bad plan, already running) is an error carrying the last line it logged.
 */
export async function startDetached(o: DetachOptions): Promise<DetachedStart> {
  const dir = submitDirOf(o.submitDir);
  const running = liveEngine(dir);
  if (running)
    throw new EngineError(
      `${dir}: already driven by the engine with pid ${running.pid}; stop it with pegasus-ts remove`,
    );
  const logPath = join(dir, SUBMIT_FILES.engineLog);
  const before = existsSync(logPath) ? statSync(logPath).size : 0;
  const fd = openSync(logPath, 'a');
  let exited: number | null | undefined;
  let pid: number | undefined;
  try {
    const child = spawn(o.foregroundCommand[0], [...o.foregroundCommand.slice(1), dir], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: o.env ?? process.env,
    });
    pid = child.pid;
    child.once('exit', (code) => {
      exited = code;
    });
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const lines = readFileSync(logPath, 'utf8').slice(before).trim().split('\n');
      const lastLine = lines[lines.length - 1] ?? '';
      if (pid !== undefined && lines.some((l) => l.includes(`engine ${pid} started on`)))
        return { pid, exitCode: exited ?? 1, lastLine };
      throw new EngineError(lastLine || `the engine exited at once (code ${exited}); see ${logPath}`);
    }
    const holder = liveEngine(dir);
    if (holder && holder.pid === pid) return { pid };
    await sleep(50);
  }
  throw new EngineError(
    `the engine (pid ${pid}) did not start within ${(o.timeoutMs ?? 15_000) / 1000} s; see ${logPath}`,
  );
}

/**
 * The engine in `engine.pid` when its process is the one that wrote the file (an engine on
 * another host is an error: a pid means nothing here). A pid of an engine
 * killed with -9 may belong to any process by now (pids wrap at pid_max, often 32768, within
 * minutes on a busy machine), and `remove` must not SIGTERM that one (another workflow's engine
 * would stop though nothing asked it to).
 */
function liveEngineProcess(dir: string): { pid: number } | undefined {
  const holder = liveEngine(dir);
  if (!holder) return undefined;
  if (holder.host !== hostname())
    throw new EngineError(
      `${dir}: driven by the engine with pid ${holder.pid} on ${holder.host}; run pegasus-ts remove there`,
    );
  let written: number;
  try {
    written = statSync(join(dir, SUBMIT_FILES.engineLock)).mtimeMs;
  } catch {
    return undefined; // released meanwhile
  }
  return startedBefore(holder.pid, written) ? holder : undefined;
}

export interface RemoveResult {
  /** the engine that was stopped, if one ran */
  engine?: number;
  /** orphaned attempts cancelled (local processes and Slurm jobs) when no engine ran */
  cancelled: string[];
}

/**
 * `pegasus-ts remove`: stops the engine driving `submitDir` (SIGTERM; it cancels its running jobs
 * and records them; a held engine is released to do so) and waits for it to exit. With no engine running (it was killed), cancels the
 * jobs the journal shows in flight: local processes by their attempt's record path, Slurm jobs
 * with scancel.
 */
export async function removeWorkflow(
  submitDir: string,
  o: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RemoveResult> {
  const dir = submitDirOf(submitDir);
  const engine = liveEngineProcess(dir);
  if (engine) {
    process.kill(engine.pid, 'SIGTERM');
    process.kill(engine.pid, 'SIGCONT'); // a held engine (see holdEngine) must run to act on it
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    while (pidAlive(engine.pid)) {
      if (Date.now() > deadline)
        throw new EngineError(
          `the engine (pid ${engine.pid}) did not stop within ${(o.timeoutMs ?? 120_000) / 1000} s`,
        );
      await sleep(50);
    }
    return { engine: engine.pid, cancelled: [] };
  }
  const plan = await loadPlan(dir);
  const history = readJobstate(join(dir, JOBSTATE_LOG));
  const cancelled: string[] = [];
  const slurmIds: string[] = [];
  for (const [name, h] of history.jobs) {
    const a = h.attempt;
    const i = plan.index.get(name);
    if (!a || a.ended || h.succeeded || i === undefined) continue;
    const job = plan.jobs[i];
    const { record } = attemptPaths(dir, name, a.seq);
    const pid = ProcessWatcher.find(
      record,
      a.schedId && /^\d+$/.test(a.schedId) ? Number(a.schedId) : undefined,
    );
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      cancelled.push(`${name} (pid ${pid})`);
    } else if (a.schedId && (job.sbatch || a.last === 'GRID_SUBMIT')) {
      slurmIds.push(a.schedId);
      cancelled.push(`${name} (Slurm job ${a.schedId})`);
    }
  }
  if (slurmIds.length) {
    const { SlurmClient } = await import('./slurm/slurm-client.js');
    await new SlurmClient({ env: o.env }).cancel(slurmIds);
  }
  return { cancelled };
}
