import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { procStat } from './proc-stat.js';

/** Who holds a lock file: `pid host start` (start: the process's start time in /proc, when known). */
export interface LockHolder {
  pid: number;
  host: string;
  /** /proc/PID/stat start time (clock ticks after boot): tells a reused pid from the holder */
  start?: string;
}

/** What a lock file held when it was read: its inode and text, and the holder they name. */
interface Seen {
  ino: number;
  text: string;
  holder: LockHolder | undefined;
  mtimeMs: number;
}

/** A lock file whose text names no holder is being written (or garbage) for this long at most. */
const UNREADABLE_GRACE_MS = 5_000;
/** Takeover rounds before giving up (each round is a few system calls). */
const ROUNDS = 20;

let self: string | undefined;

/** This process as a lock file's text: `pid host start`. */
export function selfHolderText(): string {
  self ??= `${process.pid} ${hostname()}${startOf(process.pid) === undefined ? '' : ` ${startOf(process.pid)}`}\n`;
  return self;
}

/** Parses a lock file's text (`pid host [start]`); undefined when it names no process. */
export function parseLockHolder(text: string): LockHolder | undefined {
  const [pid, host, start] = text.trim().split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return start === undefined ? { pid: n, host: host ?? '' } : { pid: n, host: host ?? '', start };
}

/** Reads the holder of a lock file; undefined when there is none or it is unreadable. */
export function readLockHolder(path: string): LockHolder | undefined {
  try {
    return parseLockHolder(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether a holder may still be running: on another host always (it cannot be checked from here);
 * on this host when its pid exists, is not a zombie and (when recorded) started at the recorded
 * time, so a pid reused by another process does not keep the lock. Never a matter of age.
 */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(h.pid);
  if (stat === undefined) return true; // no /proc: trust kill(0)
  if (stat.state === 'Z') return false;
  return h.start === undefined || h.start === stat.start;
}

/**
 * A lock held through a file: created with its text complete (a hard link of a written temp file,
 * so no reader sees it empty), holding `pid host start`. A lock whose holder is gone is taken over
 * under a "breaker" file named for exactly that dead lock (its inode and text) and created with
 * O_EXCL, so of several starters that all saw the same dead holder one removes it and the others
 * start over; a live holder's lock is never taken, however old.
 */
export class LockFile {
  private constructor(
    readonly path: string,
    private readonly ino: number,
  ) {}

  /** Takes `path`, or says who holds it (a live holder, or one on another host). */
  static tryAcquire(path: string): LockFile | { holder: LockHolder } {
    const me = selfHolderText();
    for (let round = 0; round < ROUNDS; round++) {
      const ino = createWith(path, me);
      if (ino !== undefined) return new LockFile(path, ino);
      const seen = inspect(path);
      if (seen === undefined) continue; // released meanwhile
      if (seen.holder ? holderAlive(seen.holder) : Date.now() - seen.mtimeMs < UNREADABLE_GRACE_MS) {
        if (seen.holder) return { holder: seen.holder };
        continue;
      }
      breakStale(path, seen, 0);
    }
    throw new Error(`${path}: cannot take the lock (it kept changing hands)`);
  }

  /** Takes `path`, waiting while a live process holds it; gives up after `timeoutMs`. */
  static async acquire(path: string, timeoutMs = 120_000, pollMs = 20): Promise<LockFile> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const got = LockFile.tryAcquire(path);
      if (got instanceof LockFile) return got;
      if (Date.now() > until)
        throw new Error(
          `${path}: still held by pid ${got.holder.pid} on ${got.holder.host || '?'} after ${Math.round(timeoutMs / 1000)} s`,
        );
      await sleep(pollMs);
    }
  }

  /** Removes the lock file, if it is still this lock. */
  release(): void {
    try {
      if (statSync(this.path).ino === this.ino) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/** Creates `path` holding `text`, atomically; its inode, or undefined when it exists. */
function createWith(path: string, text: string): number | undefined {
  const tmp = `${path}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
  try {
    linkSync(tmp, path);
    return statSync(tmp).ino;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(path, text);
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/** Where hard links are not supported: O_EXCL, then the text (empty for a moment). */
function createExclusive(path: string, text: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  try {
    writeFileSync(fd, text);
    return fstatSync(fd).ino;
  } finally {
    closeSync(fd);
  }
}

/** The lock file's inode and text read through one descriptor; undefined when it is gone. */
function inspect(path: string): Seen | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(Math.min(st.size, 4096));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    return { ino: st.ino, text, holder: parseLockHolder(text), mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the dead lock `seen` from `path`, under the breaker for exactly that lock: only the
 * starter that creates the breaker checks that `path` still is that lock (same inode and text)
 * and removes it. Nothing else removes a lock file, and a live lock's text differs from any dead
 * one's, so the check cannot pass for a lock taken meanwhile. A breaker left by a starter that died
 * holding it is itself a dead lock, broken the same way.
 */
function breakStale(path: string, seen: Seen, depth: number): void {
  const key = createHash('sha1').update(`${seen.ino}\n${seen.text}`).digest('hex').slice(0, 16);
  const breaker = `${path}.break-${key}`;
  const ino = createWith(breaker, selfHolderText());
  if (ino === undefined) {
    const b = inspect(breaker);
    if (b && depth < 4 && (b.holder ? !holderAlive(b.holder) : Date.now() - b.mtimeMs >= UNREADABLE_GRACE_MS))
      breakStale(breaker, b, depth + 1);
    return;
  }
  try {
    const now = inspect(path);
    if (now && now.ino === seen.ino && now.text === seen.text) unlinkSync(path);
  } finally {
    unlinkSync(breaker);
  }
}

/** A process's state letter and start time from /proc; undefined without /proc or the process. */
function startOf(pid: number): string | undefined {
  return procStat(pid)?.start;
}
