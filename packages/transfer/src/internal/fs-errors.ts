const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'exists and is not a directory',
  EROFS: 'read-only file system',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
};

/** A one-line reason for a failed file operation: `what path: reason`. */
export function describeError(err: unknown, what?: string): string {
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  if (e && typeof e === 'object' && typeof e.code === 'string' && REASONS[e.code]) {
    const reason = `${REASONS[e.code]} (${e.code})`;
    const where = what ?? e.path;
    return where ? `${where}: ${reason}` : reason;
  }
  let message = err instanceof Error ? err.message : String(err);
  // fetch reports network trouble as "fetch failed" with the real error as the cause
  const cause = e && typeof e === 'object' ? (e.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause && typeof cause === 'object') {
    const detail = cause.code ?? cause.message;
    if (detail && !message.includes(detail)) message += `: ${detail}`;
  }
  message = message.replace(/\s*\n\s*/g, ' ');
  return what ? `${what}: ${message}` : message;
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT';
}
