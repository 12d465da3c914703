import { join } from 'node:path';
import { EngineError, liveEngine, readJobstate, removeWorkflow, startDetached } from '@pegasus-ts/engine';

/** Where the engine of a RUNNING workflow stands. */
export type RunOutcome =
  | { kind: 'running' }
  /** no engine started since the manager recorded `engineStarts` (or it is still starting) */
  | { kind: 'not-started' }
  /** the engine was killed (its last start has no DAGMAN_FINISHED and its process is gone) */
  | { kind: 'crashed' }
  | { kind: 'finished'; code: number };

/** DAGMAN_STARTED lines in the submit dir's jobstate.log so far. */
export function engineStarts(submitDir: string): number {
  return readJobstate(join(submitDir, 'jobstate.log')).starts;
}

/** How the run begun after `startsBefore` engine starts stands now. */
export function runOutcome(submitDir: string, startsBefore: number): RunOutcome {
  if (liveEngine(submitDir)) return { kind: 'running' };
  const j = readJobstate(join(submitDir, 'jobstate.log'));
  // the engine writes DAGMAN_FINISHED before it lets go of engine.pid: read after the lock check
  if (j.starts <= startsBefore) return liveEngine(submitDir) ? { kind: 'running' } : { kind: 'not-started' };
  if (j.crashed) return liveEngine(submitDir) ? { kind: 'running' } : { kind: 'crashed' };
  return { kind: 'finished', code: j.finishedCode ?? 1 };
}

/**
 * Starts `pegasus-ts run` detached on the submit dir (the engine resumes a dir run before). An
 * engine already driving it is fine: the lock in the submit dir makes sure only one does.
 * Returns an error message when the engine could not start.
 */
export async function startEngine(
  submitDir: string,
  pegasusTs: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  try {
    // generous: the manager's passes go on meanwhile, and an engine that is merely slow to take
    // its lock on a loaded machine must not be judged as failed while it starts
    await startDetached({
      submitDir,
      foregroundCommand: [...pegasusTs, 'run', '--foreground', '-q'],
      env,
      timeoutMs: 300_000,
    });
    return undefined;
  } catch (err) {
    if (liveEngine(submitDir)) return undefined;
    if (err instanceof EngineError) return err.message;
    throw err;
  }
}

/** Stops the engine of a submit dir and the jobs it runs (pegasus-ts remove). */
export async function stopEngine(submitDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  await removeWorkflow(submitDir, { env });
}
