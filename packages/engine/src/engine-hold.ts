import { hostname } from 'node:os';
import { procStat } from '@pegasus-ts/io';
import { liveEngine } from './submit-lock.js';

/**
 * Holds (SIGSTOP) or releases (SIGCONT) the engine driving `submitDir`, as condor_hold and
 * condor_release do to a DAGMan job: a held engine starts no job and judges none, while the jobs
 * it started go on (they finish, or wait in Slurm's queue); once released it catches up from
 * their invocation records. Idempotent: true only when it signalled (the engine was not in that
 * state yet); false when it already was, or no engine runs there on this host.
 */
export function holdEngine(submitDir: string, hold: boolean): boolean {
  const h = liveEngine(submitDir);
  if (!h || h.host !== hostname()) return false;
  if ((procStat(h.pid)?.state === 'T') === hold) return false;
  try {
    process.kill(h.pid, hold ? 'SIGSTOP' : 'SIGCONT');
    return true;
  } catch {
    return false; // gone meanwhile
  }
}
