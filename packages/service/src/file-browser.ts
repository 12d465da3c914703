import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { confinePath } from './security/confine-path.js';

/** An entry of a directory listing. */
export interface FileEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** seconds since the epoch */
  modified: number;
}

/** What the file browser answers for a path: a directory listing or (the start of) a text file. */
export type BrowseResult =
  | { kind: 'directory'; path: string; entries: FileEntry[] }
  | { kind: 'file'; path: string; size: number; text: string; truncated: boolean };

/** The most bytes of a file shown in the browser (the rest is downloaded). */
export const FILE_VIEW_BYTES = 1 << 20;

/**
 * Reads `relative` under `submitDir` for the read-only file browser, confined by
 * {@link confinePath} (a SecurityError for `..`, absolute, encoded paths and symlinks out).
 */
export async function browse(submitDir: string, relative: string): Promise<BrowseResult> {
  const { path, relative: rel } = await confinePath(submitDir, relative);
  const st = await stat(path);
  if (st.isDirectory()) {
    const entries: FileEntry[] = [];
    for (const d of await readdir(path, { withFileTypes: true })) {
      let size = 0;
      let modified = 0;
      try {
        const s = await stat(join(path, d.name));
        size = s.size;
        modified = s.mtimeMs / 1000;
      } catch {
        // a dangling symlink: listed, without size
      }
      const type = d.isSymbolicLink()
        ? 'symlink'
        : d.isDirectory()
          ? 'directory'
          : d.isFile()
            ? 'file'
            : 'other';
      entries.push({ name: d.name, type, size, modified });
    }
    entries.sort((a, b) =>
      (a.type === 'directory') !== (b.type === 'directory')
        ? a.type === 'directory'
          ? -1
          : 1
        : a.name.localeCompare(b.name),
    );
    return { kind: 'directory', path: rel, entries };
  }
  const fh = await open(path, 'r');
  try {
    const n = Math.min(st.size, FILE_VIEW_BYTES);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return {
      kind: 'file',
      path: rel,
      size: st.size,
      text: buf.subarray(0, bytesRead).toString('utf8'),
      truncated: st.size > bytesRead,
    };
  } finally {
    await fh.close();
  }
}

/** A whole confined file as a stream (the browser's download link), with its size. */
export async function fileStream(
  submitDir: string,
  relative: string,
): Promise<{ stream: NodeJS.ReadableStream; size: number; name: string }> {
  const { path, relative: rel } = await confinePath(submitDir, relative);
  const st = await stat(path);
  if (!st.isFile()) {
    const { SecurityError } = await import('./security/errors.js');
    throw new SecurityError(`${rel}: not a file`, 400);
  }
  return { stream: createReadStream(path), size: st.size, name: rel.split('/').pop() ?? rel };
}
