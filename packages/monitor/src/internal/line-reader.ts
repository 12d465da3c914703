import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

/**
 * Reads a text file line by line with flat memory (1 MB reads), synchronously: `next()` returns
 * the next line without its newline, or undefined at the end. A last line without a newline is
 * returned too. `lineNo` is the 1-based number of the line last returned.
 */
export class LineReader {
  private fd: number;
  private buf = '';
  private pos = 0;
  private eof = false;
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private readonly decoder = new TextDecoder('utf-8');
  lineNo = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  next(): string | undefined {
    for (;;) {
      const nl = this.buf.indexOf('\n', this.pos);
      if (nl >= 0) {
        const line = this.buf.slice(this.pos, nl);
        this.pos = nl + 1;
        this.lineNo++;
        return line;
      }
      if (this.eof) {
        if (this.pos < this.buf.length) {
          const line = this.buf.slice(this.pos);
          this.pos = this.buf.length;
          this.lineNo++;
          return line;
        }
        return undefined;
      }
      const n = readSync(this.fd, this.chunk, 0, CHUNK, null);
      const rest = this.buf.slice(this.pos);
      if (n === 0) {
        this.eof = true;
        this.buf = rest + this.decoder.decode();
      } else {
        this.buf = rest + this.decoder.decode(this.chunk.subarray(0, n), { stream: true });
      }
      this.pos = 0;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Reads bytes [offset, offset + max) of a file (fewer at its end). Returns an empty buffer when
 * the file is shorter than offset.
 */
export function readRange(path: string, offset: number, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    // no bigger buffer than what is there (many small files are read with a big max)
    const want = Math.max(0, Math.min(max, fstatSync(fd).size - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
