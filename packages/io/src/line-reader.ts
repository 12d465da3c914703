import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

/**
 * Reads a text file line by line with flat memory (1 MB reads), synchronously: `next()` returns
 * the next line without its newline, or undefined at the end. A last line without a newline is
 * returned too (then `partial` is true: a reader of a file still being appended to may leave it
 * for later). `lineNo` is the 1-based number of the line last returned.
 */
export class LineReader {
  private fd: number;
  private buf = '';
  private pos = 0;
  private eof = false;
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private readonly decoder = new TextDecoder('utf-8');
  lineNo = 0;
  /** the line last returned had no newline (the end of the file) */
  partial = false;

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
          this.partial = true;
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
 * Calls `fn` with each complete line of `text` (without its newline); returns the index after the
 * last newline, where an incomplete last line (if any) starts. For text read in pieces.
 */
export function eachLine(text: string, fn: (line: string) => void): number {
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return pos;
    fn(text.slice(pos, nl));
    pos = nl + 1;
  }
}
