import { LockFile } from '@pegasus-ts/io';
import { UserError } from './errors.js';

/**
 * One master per DAG: `DAGFILE.lock` holds `pid hostname start` (see @pegasus-ts/io's LockFile).
 * PMC takes an fcntl lock on the DAG itself (which Node cannot); a lock file says who holds it and
 * survives nothing but a crash, which is detected: a lock whose process is gone on this host is
 * taken over (by exactly one of several masters started at once).
 */
export class DagLock {
  private constructor(private readonly lock: LockFile) {}

  get path(): string {
    return this.lock.path;
  }

  static acquire(dagFile: string): DagLock {
    const path = `${dagFile}.lock`;
    let got: ReturnType<typeof LockFile.tryAcquire>;
    try {
      got = LockFile.tryAcquire(path);
    } catch (e) {
      throw new UserError(`cannot create lock file ${path}: ${(e as Error).message}`);
    }
    if (got instanceof LockFile) return new DagLock(got);
    throw new UserError(
      `${dagFile}: DAG file is already locked by another process (pid ${got.holder.pid} on ${got.holder.host}; lock file ${path})`,
    );
  }

  release(): void {
    this.lock.release();
  }
}
