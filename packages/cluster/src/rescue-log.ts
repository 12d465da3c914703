/**
 * The rescue log: which tasks already succeeded, so that a restarted run skips them.
 * PMC's format: a `DONE <name>` record per line, written as "\nDONE <name>" (newline first).
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { Dag } from './dag.js';
import { DagError, type DagIssue, UserError } from './errors.js';

/**
 * Reads a rescue file: returns one flag per task (1 = already done). A missing file means
 * nothing is done. Blank lines and `#` comments are skipped; duplicate records are fine.
 * An unknown task or any other record is a DagError (`FILE:LINE: ...`), except a final line
 * without a newline that is the beginning of a valid record (a record torn by a crash): it is
 * ignored, and that task simply runs again.
 */
export async function readRescue(path: string, dag: Dag): Promise<Uint8Array> {
  let text: string;
  try {
    text = await fs.promises.readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return new Uint8Array(dag.size);
    throw new UserError(`${path}: cannot read rescue file: ${err.message}`, { file: path });
  }
  return parseRescue(text, path, dag);
}

/** Parses rescue file text (see readRescue). */
export function parseRescue(text: string, path: string, dag: Dag): Uint8Array {
  const done = new Uint8Array(dag.size);
  const issues: DagIssue[] = [];
  let total = 0;
  const bad = (line: number, message: string) => {
    total++;
    if (issues.length < 1000) issues.push({ file: path, line, message });
  };
  let start = 0;
  let lineNo = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    const last = end < 0;
    if (last) end = n;
    lineNo++;
    const rec = text.slice(start, end).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    start = end + 1;
    if (rec.length === 0 || rec.charCodeAt(0) === 0x23) continue;
    const m = /^DONE[ \t]+(\S+)$/.exec(rec);
    const i = m ? dag.indexOf(m[1]) : -1;
    if (i >= 0) {
      done[i] = 1;
      continue;
    }
    if (last && isTornRecord(rec, dag)) continue;
    if (m) bad(lineNo, `unknown task ${m[1]} in rescue file (expected a task of ${dag.file})`);
    else {
      const shown = rec.length > 60 ? `${rec.slice(0, 60)}...` : rec;
      bad(lineNo, `invalid rescue record "${shown}" (expected DONE TASKNAME)`);
    }
  }
  if (total > 0) throw DagError.fromIssues(issues, total);
  return done;
}

/** Whether `rec` is a strict beginning of "DONE <some task name>". */
function isTornRecord(rec: string, dag: Dag): boolean {
  if (rec.length <= 5) return 'DONE '.startsWith(rec);
  if (!rec.startsWith('DONE ')) return false;
  const part = rec.slice(5);
  for (let i = 0; i < dag.size; i++) if (dag.names[i].startsWith(part)) return true;
  return false;
}

export interface RescueLogOptions {
  /** fdatasync after every flush (default false: like PMC, only the kernel's buffers). */
  sync?: boolean;
}

/**
 * Writes the rescue log. `open` rewrites the file atomically with the records of the tasks
 * already done (so the file does not grow across restarts, unlike PMC), then appends:
 * `markDone` buffers a record, `flush` writes every buffered record with one write.
 * A path that is not a regular file (e.g. /dev/null) is opened for appending as it is.
 */
export class RescueLog {
  private buffered: string[] = [];

  private constructor(
    readonly path: string,
    private readonly dag: Dag,
    private fd: number,
    private readonly sync: boolean,
  ) {}

  static async open(
    path: string,
    dag: Dag,
    done: Uint8Array,
    opts: RescueLogOptions = {},
  ): Promise<RescueLog> {
    try {
      let regular = true;
      try {
        regular = fs.statSync(path).isFile();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (regular) {
        const parts: string[] = [];
        for (let i = 0; i < dag.size; i++) if (done[i]) parts.push(`\nDONE ${dag.names[i]}`);
        const tmp = `${path}.tmp.${process.pid}`;
        const tfd = fs.openSync(tmp, 'w', 0o644);
        try {
          writeAll(tfd, Buffer.from(parts.join('')));
          fs.fsyncSync(tfd);
        } finally {
          fs.closeSync(tfd);
        }
        fs.renameSync(tmp, path);
        syncDir(dirname(path));
      }
      const fd = fs.openSync(path, 'a', 0o644);
      return new RescueLog(path, dag, fd, opts.sync ?? false);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${path}: cannot write rescue file: ${(e as Error).message}`, { file: path });
    }
  }

  /** Buffers a DONE record for task i (written by the next flush). */
  markDone(i: number): void {
    this.buffered.push(`\nDONE ${this.dag.names[i]}`);
  }

  /** Number of records waiting for flush(). */
  get pending(): number {
    return this.buffered.length;
  }

  /** Writes every buffered record with one write. */
  flush(): void {
    if (this.buffered.length === 0 || this.fd < 0) return;
    const data = Buffer.from(this.buffered.length === 1 ? this.buffered[0] : this.buffered.join(''));
    this.buffered = [];
    writeAll(this.fd, data);
    if (this.sync) fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
  }
}
