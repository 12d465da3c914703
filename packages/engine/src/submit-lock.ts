import { join } from 'node:path';
import { holderAlive, LockFile, type LockHolder, readLockHolder as readHolderOf } from '@pegasus-ts/io';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import { EngineError } from './errors.js';

export type { LockHolder };

/** The submit dir's lock file: `engine.pid`. */
export const ENGINE_PID_FILE = SUBMIT_FILES.engineLock;

/** Reads `engine.pid`; undefined when there is none or it is unreadable. */
export function readLockHolder(submitDir: string): LockHolder | undefined {
  return readHolderOf(join(submitDir, ENGINE_PID_FILE));
}

/** The engine driving `submitDir` right now, if any (a holder whose process is gone does not count). */
export function liveEngine(submitDir: string): LockHolder | undefined {
  const h = readLockHolder(submitDir);
  return h && holderAlive(h) ? h : undefined;
}

/**
 * `engine.pid` (see @pegasus-ts/io's LockFile): two engines never drive one submit dir. A lock
 * whose process is gone (an engine killed with -9) is taken over, by exactly one of several
 * engines started at once; a live engine's lock never is, however long it has run.
 */
export class SubmitLock {
  private constructor(private readonly lock: LockFile) {}

  get path(): string {
    return this.lock.path;
  }

  static acquire(submitDir: string): SubmitLock {
    const path = join(submitDir, ENGINE_PID_FILE);
    let got: ReturnType<typeof LockFile.tryAcquire>;
    try {
      got = LockFile.tryAcquire(path);
    } catch (e) {
      throw new EngineError(`${path}: cannot create the engine lock: ${(e as Error).message}`);
    }
    if (got instanceof LockFile) return new SubmitLock(got);
    throw new EngineError(
      `${submitDir}: already driven by the engine with pid ${got.holder.pid} on ${got.holder.host} (see ${path}); stop it with pegasus-ts remove`,
    );
  }

  release(): void {
    this.lock.release();
  }
}
