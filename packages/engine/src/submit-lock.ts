import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EngineError } from './errors.js';
import { pidAlive } from './internal/proc.js';

/** Who holds a submit dir: the pid and host in `engine.pid`. */
export interface LockHolder {
  pid: number;
  host: string;
}

/** Reads `engine.pid`; undefined when there is none or it is unreadable. */
export function readLockHolder(submitDir: string): LockHolder | undefined {
  try {
    const [pid, host] = readFileSync(join(submitDir, 'engine.pid'), 'utf8').trim().split(/\s+/);
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The engine driving `submitDir` right now, if any (a holder whose process is gone does not count). */
export function liveEngine(submitDir: string): LockHolder | undefined {
  const h = readLockHolder(submitDir);
  if (!h) return undefined;
  if (h.host === hostname() && !pidAlive(h.pid)) return undefined;
  return h;
}

/**
 * `engine.pid`: created exclusively, so two engines never drive one submit dir. A lock whose
 * process is gone (an engine killed with -9) is taken over.
 */
export class SubmitLock {
  private constructor(readonly path: string) {}

  static acquire(submitDir: string): SubmitLock {
    const path = join(submitDir, 'engine.pid');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, `${process.pid} ${hostname()}\n`);
        closeSync(fd);
        return new SubmitLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new EngineError(`${path}: cannot create the engine lock: ${(e as Error).message}`);
        const live = liveEngine(submitDir);
        if (live)
          throw new EngineError(
            `${submitDir}: already driven by the engine with pid ${live.pid} on ${live.host} (see ${path}); stop it with pegasus-ts remove`,
          );
        rmSync(path, { force: true });
      }
    }
    throw new EngineError(`${path}: cannot take the engine lock`);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}
