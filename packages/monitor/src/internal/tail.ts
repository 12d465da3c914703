import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** The last `lines` lines of a file (reading at most its last `maxBytes`), or null if unreadable. */
export function tailFile(path: string, lines = 20, maxBytes = 65536): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, maxBytes);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    return tailText(buf.toString('utf8'), lines);
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a text. */
export function tailText(text: string, lines = 20): string {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (t === '') return '';
  const all = t.split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}
