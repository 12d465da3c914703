import { lstat, readlink, stat } from 'node:fs/promises';
import { TransferError } from '../errors.js';
import type { IntegrityMode } from '../options.js';
import type { SpecUrl } from '../spec.js';
import {
  copyAtomically,
  hashFile,
  readChunks,
  symlinkAtomically,
  type Verifier,
  type Written,
  writeAtomically,
} from './atomic-write.js';
import { describeError, isMissing } from './fs-errors.js';
import { type ParsedUrl, parseTransferUrl } from './urls.js';

/** What happened to one file: copied, downloaded, linked, or nothing (it was already there). */
export type MoveAction = 'copy' | 'download' | 'symlink' | 'none';

export interface Moved extends Written {
  action: MoveAction;
}

async function statSource(s: ParsedUrl) {
  try {
    return await stat(s.path);
  } catch (err) {
    throw new TransferError(`source ${describeError(err, s.path)}`);
  }
}

async function statIfThere(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/**
 * Moves one file from one source to the destination. `hash`: compute the sha256 of what is
 * written; `expected`: the sum it must have. Checks happen before the file gets its final name,
 * so a mismatch leaves nothing behind under it.
 */
export async function moveFile(
  lfn: string,
  src: SpecUrl,
  dest: SpecUrl,
  integrity: IntegrityMode,
  generate: boolean,
  signal: AbortSignal | undefined,
  durable = true,
): Promise<Moved> {
  const d = parseTransferUrl(dest.url);
  if (d.scheme !== 'file' && d.scheme !== 'symlink') {
    throw new TransferError(
      `cannot write to ${dest.url} (destinations must be file:// or symlink:// URLs)`,
      true,
    );
  }
  const s = parseTransferUrl(src.url);
  const link = d.scheme === 'symlink';
  const skip = integrity === 'none' || (integrity === 'nosymlink' && link);
  const expected = skip ? undefined : src.checksum?.sha256;
  const hash = !skip && (integrity !== 'verify' || expected !== undefined || generate);
  const verify: Verifier = (w) => {
    if (expected !== undefined && w.sha256 !== expected) {
      throw new TransferError(
        `checksum mismatch for lfn ${JSON.stringify(lfn)} from ${src.url}: expected sha256 ${expected}, got ${w.sha256}`,
      );
    }
  };

  if (s.scheme === 'http' || s.scheme === 'https') {
    if (link) {
      throw new TransferError(
        `cannot symlink ${dest.url} to ${src.url} (a symlink needs a file:// source)`,
        true,
      );
    }
    return { ...(await download(s.url, d.path, hash, verify, signal)), action: 'download' };
  }

  const st = await statSource(s);
  if (link) {
    try {
      const there = await lstat(d.path);
      const same = there.isSymbolicLink()
        ? (await readlink(d.path)) === s.path
        : there.dev === st.dev && there.ino === st.ino;
      if (same) return await checkInPlace(s.path, st.size, hash, verify, signal, 'none');
    } catch (err) {
      if (err instanceof TransferError || !isMissing(err)) throw err;
    }
    // check the source before linking, so that a bad sum leaves no link
    const result = await checkInPlace(s.path, st.size, hash, verify, signal, 'symlink');
    await symlinkAtomically(s.path, d.path);
    return result;
  }
  if (st.isDirectory()) throw new TransferError(`source ${s.path} is a directory (expected a file)`);
  const there = await statIfThere(d.path);
  if (there && there.dev === st.dev && there.ino === st.ino) {
    return checkInPlace(d.path, st.size, hash, verify, signal, 'none');
  }
  if (!hash) return { ...(await copyAtomically(s.path, d.path, durable)), action: 'copy' };
  const written = await writeAtomically(
    d.path,
    readChunks(s.path, st.size, signal),
    true,
    verify,
    st.mode,
    signal,
    durable,
  );
  return { ...written, action: 'copy' };
}

async function checkInPlace(
  path: string,
  size: number,
  hash: boolean,
  verify: Verifier,
  signal: AbortSignal | undefined,
  action: MoveAction,
): Promise<Moved> {
  if (!hash) return { bytes: size, action };
  const w = await hashFile(path, size, signal);
  verify(w);
  return { ...w, action };
}

async function download(
  url: string,
  dest: string,
  hash: boolean,
  verify: Verifier,
  signal: AbortSignal | undefined,
): Promise<Written> {
  const res = await fetch(url, { redirect: 'follow', signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new TransferError(`HTTP status ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const header = res.headers.get('content-length');
  const length = header !== null && !res.headers.get('content-encoding') ? Number(header) : Number.NaN;
  const body: AsyncIterable<Uint8Array> = res.body ?? (async function* () {})();
  return writeAtomically(
    dest,
    body,
    hash,
    (w) => {
      if (Number.isFinite(length) && w.bytes !== length) {
        throw new TransferError(`short download: got ${w.bytes} of ${length} bytes`);
      }
      verify(w);
    },
    undefined,
    signal,
  );
}
