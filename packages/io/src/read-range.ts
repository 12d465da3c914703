import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

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
