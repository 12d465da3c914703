import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { UserError } from './errors.js';

/**
 * One master per DAG: `DAGFILE.lock` holds `pid hostname`. PMC takes an fcntl lock on the DAG
 * itself (which Node cannot); a lock file says who holds it and survives nothing but a crash,
 * which is detected: a lock whose process is gone on this host is taken over.
 */
export class DagLock {
  private constructor(readonly path: string) {}

  static acquire(dagFile: string): DagLock {
    const path = `${dagFile}.lock`;
    const me = `${process.pid} ${os.hostname()}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, me);
        closeSync(fd);
        return new DagLock(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST')
          throw new UserError(`cannot create lock file ${path}: ${(e as Error).message}`);
        const holder = readHolder(path);
        if (holder && (holder.host !== os.hostname() || isAlive(holder.pid))) {
          throw new UserError(
            `${dagFile}: DAG file is already locked by another process (pid ${holder.pid} on ${holder.host}; lock file ${path})`,
          );
        }
        rmSync(path, { force: true }); // stale: its process is gone
      }
    }
    throw new UserError(`cannot take the lock ${path}`);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

function readHolder(path: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(path, 'utf8').trim().split(/\s+/);
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** A process that exists and is not a zombie (a killed master its parent has not reaped yet). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
