import { mkdir, rm, rmdir, unlink } from 'node:fs/promises';
import { TransferError } from '../errors.js';
import type { SpecUrl } from '../spec.js';
import { isMissing } from './fs-errors.js';
import { parseTransferUrl } from './urls.js';

function localPath(target: SpecUrl, what: string): string {
  const u = parseTransferUrl(target.url);
  if (u.scheme !== 'file' && u.scheme !== 'symlink') {
    throw new TransferError(`cannot ${what} ${target.url} (expected a file:// URL)`, true);
  }
  return u.path;
}

/** mkdir -p. */
export async function makeDirectory(target: SpecUrl): Promise<void> {
  await mkdir(localPath(target, 'create directory'), { recursive: true });
}

/** Removes a file (or an empty directory), or a whole tree with `recursive`; missing is fine. */
export async function removeTarget(target: SpecUrl, recursive: boolean): Promise<void> {
  const path = localPath(target, 'remove');
  if (recursive) {
    await rm(path, { recursive: true, force: true, maxRetries: 2 });
    return;
  }
  try {
    await unlink(path);
  } catch (err) {
    if (isMissing(err)) return;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM') throw err;
    try {
      await rmdir(path);
    } catch (err2) {
      if (!isMissing(err2)) throw err2;
    }
  }
}
