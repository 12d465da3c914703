import { hostname } from 'node:os';
import { procStat } from '@pegasus-ts/io';
import { liveEngine } from './submit-lock.js';

/** Where a submit dir's engine stands after `holdEngine`. */
export type EngineHoldState = 'held' | 'released' | 'none';

/**
 * Holds (SIGSTOP) or releases (SIGCONT) the engine driving `submitDir`, as condor_hold and
 * condor_release do to a DAGMan job: a held engine starts no job and judges none, while the jobs
 * it started go on (they finish, or wait in Slurm's queue); once released it catches up from
 * their invocation records. Idempotent (a process already in that state is not signalled again).
 * 'none' when no engine runs there, or it runs on another host (it cannot be signalled from here).
 */
export function holdEngine(submitDir: string, hold: boolean): EngineHoldState {
  const h = liveEngine(submitDir);
  if (!h || h.host !== hostname()) return 'none';
  const stopped = procStat(h.pid)?.state === 'T';
  try {
    if (hold && !stopped) process.kill(h.pid, 'SIGSTOP');
    else if (!hold && stopped) process.kill(h.pid, 'SIGCONT');
  } catch {
    return 'none'; // gone meanwhile
  }
  return hold ? 'held' : 'released';
}

/** Whether the engine driving `submitDir` is held (stopped by `holdEngine`). */
export function engineHeld(submitDir: string): boolean {
  const h = liveEngine(submitDir);
  return !!h && h.host === hostname() && procStat(h.pid)?.state === 'T';
}
