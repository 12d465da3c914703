/**
 * Where task output goes on the master.
 *
 * - Shared mode (default): for each finished attempt, the task's captured stdout followed by
 *   its `[cluster-task ...]` line goes to the stdout target, its stderr to the stderr target.
 *   Targets: a path (`-o`/`-e`), one stream when both are equal; or, for the values
 *   'stdout'/'stderr' (no `-o`/`-e`), PMC's per-worker files `DAG.out.<rank>`/`DAG.err.<rank>`,
 *   appended to (what a killed run left there is kept) and merged in rank order into the
 *   master's own stdout/stderr by `close()`, which removes them. Writes are buffered and written
 *   by `flush()` (one synchronous write per file), so two tasks' output never interleaves.
 * - Per-task-stdio mode: each attempt gets `<dirname(DAG)>/<task>.out.NNN` and `.err.NNN`
 *   (the lowest NNN, from 000, whose .out file does not exist yet), created even when empty.
 * - `appendForward`: data forwarded by `-f`/`-F` appended to its destination, through an LRU
 *   of open files (size maxfds) that creates parent directories.
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { BufferedWriter, writeFully } from '@pegasus-ts/io';
import { RankFiles } from './internal/rank-files.js';

export interface TaskOutputOptions {
  dagFile: string;
  /** Path, or 'stdout' for the master's stdout. */
  stdout?: string;
  /** Path, or 'stderr' for the master's stderr; equal to `stdout` = the same stream. */
  stderr?: string;
  perTaskStdio?: boolean;
  /** Open files kept by appendForward (default 64). */
  maxfds?: number;
  /** The fds the 'stdout' / 'stderr' targets are merged into (default 1 and 2; never closed). */
  stdoutFd?: number;
  stderrFd?: number;
  /** Append to target files instead of truncating them at open (default false, as PMC's -o/-e). */
  append?: boolean;
}

type Data = string | Uint8Array;

/** A target: one file, or one file per worker rank. */
type Target = BufferedWriter | RankFiles;

export class TaskOutput {
  readonly perTaskStdio: boolean;
  readonly dir: string;
  private readonly out: Target | undefined;
  private readonly err: Target | undefined;
  private readonly fds = new Map<string, number>();
  private readonly maxfds: number;
  /** appendForward statistics (PMC logs the FD cache hit rate). */
  forwardHits = 0;
  forwardMisses = 0;

  constructor(opts: TaskOutputOptions) {
    this.perTaskStdio = opts.perTaskStdio ?? false;
    this.dir = dirname(opts.dagFile);
    this.maxfds = Math.max(1, opts.maxfds ?? 64);
    if (!this.perTaskStdio) {
      const so = opts.stdout ?? 'stdout';
      const se = opts.stderr ?? 'stderr';
      const open = (p: string) => (opts.append ? BufferedWriter.append(p) : BufferedWriter.truncate(p));
      const out = so === 'stdout' ? new RankFiles(`${opts.dagFile}.out`, opts.stdoutFd ?? 1) : open(so);
      this.out = out;
      if (se === so) this.err = out;
      else if (se === 'stderr') this.err = new RankFiles(`${opts.dagFile}.err`, opts.stderrFd ?? 2);
      else {
        try {
          this.err = open(se);
        } catch (e) {
          if (out instanceof BufferedWriter) out.close();
          throw e;
        }
      }
    }
  }

  /**
   * The per-worker files of a worker that joined, created now as PMC's worker does (only
   * where task output goes to the master's own stdout/stderr).
   */
  addWorker(rank: number): void {
    if (this.out instanceof RankFiles) this.out.of(rank);
    if (this.err instanceof RankFiles) this.err.of(rank);
  }

  /**
   * Records one attempt that worker `rank` ran: `stdout` + `record` + '\n' to the stdout target
   * and `stderr` to the stderr target (or to a new .out.NNN/.err.NNN pair in per-task mode,
   * written at once). `record` is the `[cluster-task ...]` line without its newline.
   */
  addAttempt(
    task: string,
    rank: number,
    stdout: Data | undefined,
    stderr: Data | undefined,
    record: string,
  ): void {
    if (this.perTaskStdio) {
      const { outFd, errFd } = openPerTaskStdio(this.dir, task);
      try {
        if (stdout && stdout.length > 0) writeFully(outFd, toBytes(stdout));
        writeFully(outFd, Buffer.from(`${record}\n`));
        if (stderr && stderr.length > 0) writeFully(errFd, toBytes(stderr));
      } finally {
        fs.closeSync(outFd);
        fs.closeSync(errFd);
      }
      return;
    }
    const out = this.out instanceof RankFiles ? this.out.of(rank) : this.out!;
    if (stdout && stdout.length > 0) out.write(stdout);
    out.write(`${record}\n`);
    if (stderr && stderr.length > 0) {
      const err = this.err instanceof RankFiles ? this.err.of(rank) : this.err!;
      err.write(stderr);
    }
  }

  /** Writes everything buffered (one write per target). */
  flush(): void {
    this.out?.flush();
    if (this.err !== this.out) this.err?.flush();
  }

  /** Appends forwarded data to `path` (parent directories created). Throws on I/O errors. */
  appendForward(path: string, data: Data): void {
    let fd = this.fds.get(path);
    if (fd !== undefined) {
      this.forwardHits++;
      this.fds.delete(path);
      this.fds.set(path, fd);
    } else {
      this.forwardMisses++;
      if (this.fds.size >= this.maxfds) {
        const [oldPath, oldFd] = this.fds.entries().next().value as [string, number];
        this.fds.delete(oldPath);
        fs.closeSync(oldFd);
      }
      try {
        fd = fs.openSync(path, 'a', 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        fs.mkdirSync(dirname(path), { recursive: true });
        fd = fs.openSync(path, 'a', 0o644);
      }
      this.fds.set(path, fd);
    }
    try {
      writeFully(fd, toBytes(data));
    } catch (e) {
      this.fds.delete(path);
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Number of forward files open now. */
  get openForwards(): number {
    return this.fds.size;
  }

  /** Flushes, closes; per-worker files are merged into their stream and removed. */
  close(): void {
    try {
      this.flush();
    } finally {
      for (const t of this.err === this.out ? [this.out] : [this.out, this.err]) {
        if (t instanceof RankFiles) t.merge();
        else t?.close();
      }
      for (const fd of this.fds.values()) fs.closeSync(fd);
      this.fds.clear();
    }
  }
}

function toBytes(d: Data): Uint8Array {
  return typeof d === 'string' ? Buffer.from(d) : d;
}

export interface PerTaskStdio {
  out: string;
  err: string;
  outFd: number;
  errFd: number;
  /** The NNN used. */
  seq: number;
}

/**
 * Creates `<dir>/<task>.out.NNN` and `<dir>/<task>.err.NNN` for the lowest NNN (from 000,
 * `%03d`) whose .out file does not exist, and returns them open for writing (close them).
 */
export function openPerTaskStdio(dir: string, task: string): PerTaskStdio {
  for (let seq = 0; ; seq++) {
    const nnn = String(seq).padStart(3, '0');
    const out = join(dir, `${task}.out.${nnn}`);
    let outFd: number;
    try {
      outFd = fs.openSync(out, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    const err = join(dir, `${task}.err.${nnn}`);
    try {
      const errFd = fs.openSync(err, 'w', 0o644);
      return { out, err, outFd, errFd, seq };
    } catch (e) {
      fs.closeSync(outFd);
      throw e;
    }
  }
}
