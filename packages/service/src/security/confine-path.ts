import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { SecurityError } from './errors.js';

/**
 * The segments of a relative request path, or a {@link SecurityError} (status 400) when the path
 * is not one plainly below its root: an absolute path (`/x`, `C:\x`, `\\host`), a `..` segment,
 * a backslash, a NUL or other control character, or any `%` (the server decoded the URL once
 * already, so a `%` left is an encoded variant such as `%2e%2e%2f` or `%252e`). Pure: no file
 * system access. `''` and `.` mean the root itself (no segments).
 */
export function requestPathSegments(requested: string): string[] {
  const show = JSON.stringify(requested.length > 200 ? `${requested.slice(0, 200)}...` : requested);
  const refuse = (why: string): never => {
    throw new SecurityError(`path ${show}: ${why}`, 400);
  };
  if (/[\u0000-\u001f\u007f]/.test(requested)) refuse('control characters are not allowed');
  if (requested.includes('%')) refuse("'%' is not allowed (encoded paths are refused)");
  if (requested.includes('\\')) refuse('backslashes are not allowed');
  if (requested.startsWith('/') || /^[A-Za-z]:/.test(requested)) refuse('expected a relative path');
  const segments = requested.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) refuse("'..' is not allowed");
  return segments;
}

/** A request path confined to its root: the real (symlink-free) absolute path and the one asked for. */
export interface ConfinedPath {
  /** Real absolute path, inside the root's real path. */
  readonly path: string;
  /** The request path, normalised (`a/b`, `''` for the root). */
  readonly relative: string;
}

/**
 * Resolves `requested` (a path from a request, relative to `root`) to a real path inside `root`,
 * or throws a one-line {@link SecurityError}: 400 for what {@link requestPathSegments} refuses,
 * 403 when symlinks lead out of the root, 404 when it does not exist. Symlinks that stay inside
 * the root are followed.
 */
export async function confinePath(root: string, requested: string): Promise<ConfinedPath> {
  const segments = requestPathSegments(requested);
  const relative = segments.join('/');
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    throw new SecurityError(`${root}: the directory does not exist`, 404);
  }
  let real: string;
  try {
    real = await realpath(join(realRoot, ...segments));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SecurityError(`${relative}: no such file`, 404);
    if (code === 'ELOOP') throw new SecurityError(`${relative}: too many symlinks`, 403);
    throw new SecurityError(`${relative}: cannot be read (${code ?? 'error'})`, 403);
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new SecurityError(`${relative}: leads outside the directory (symlink)`, 403);
  }
  return { path: real, relative };
}
