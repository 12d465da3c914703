import * as fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data` to fd with synchronous writes (retrying short writes and EAGAIN). */
export function writeFully(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      // A non-blocking pipe (the master's own stdout) that is full: wait a little.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}

/** Flush by itself once this many bytes are waiting. */
const AUTO_FLUSH_BYTES = 8 << 20;

/**
 * A file (or an inherited fd) written in batches: `write` buffers, `flush` writes all of it at once
 * (short writes and EAGAIN retried), by itself past 8 MB. Keeps memory flat when writing millions of
 * lines, and one write per batch keeps appends from several processes whole.
 */
export class BufferedWriter {
  private parts: (string | Uint8Array)[] = [];
  private bytes = 0;

  constructor(
    private fd: number,
    private readonly ownsFd: boolean,
  ) {}

  /** Opens `path` for appending (created 0644 if missing). */
  static append(path: string): BufferedWriter {
    return new BufferedWriter(fs.openSync(path, 'a', 0o644), true);
  }

  /** Opens `path` truncated (created 0644 if missing). */
  static truncate(path: string): BufferedWriter {
    return new BufferedWriter(fs.openSync(path, 'w', 0o644), true);
  }

  write(data: string | Uint8Array): void {
    if (data.length === 0) return;
    this.parts.push(data);
    this.bytes += data.length;
    if (this.bytes >= AUTO_FLUSH_BYTES) this.flush();
  }

  get pending(): number {
    return this.bytes;
  }

  flush(): void {
    if (this.parts.length === 0 || this.fd < 0) return;
    const parts = this.parts;
    this.parts = [];
    this.bytes = 0;
    let buf: Uint8Array;
    if (parts.every((p) => typeof p === 'string')) buf = Buffer.from((parts as string[]).join(''));
    else buf = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    writeFully(this.fd, buf);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      if (this.ownsFd) fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
