import { createHash, type Hash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const CHUNK = 1 << 20;
let tempSeq = 0;

/**
 * A fresh hidden name beside `dest`: `.<name>.part-<pid>-<n>`. Writers fill it and rename it to
 * `dest`, so a killed or failed transfer never leaves a partial file under the final name.
 */
export function tempPathFor(dest: string): string {
  let base = basename(dest);
  if (base.length > 200) base = base.slice(0, 200);
  tempSeq++;
  return join(dirname(dest), `.${base}.part-${process.pid}-${tempSeq.toString(36)}`);
}

/** True for names tempPathFor makes (tests look for leftovers). */
export function isTempName(name: string): boolean {
  return /^\..*\.part-\d+-[0-9a-z]+$/.test(name);
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // already gone
  }
}

export interface Written {
  bytes: number;
  /** hex, when hashing was asked for */
  sha256?: string;
}

/**
 * Checks what was written (size, sum) before it gets its final name; throws to reject it (the
 * temp file is then removed).
 */
export type Verifier = (written: Written) => void;

/**
 * The one way every writer here replaces `dest`: parent dirs created, `fill` makes the temp path
 * (a fresh name beside `dest`), which is then renamed to `dest`. On any error the temp path is
 * removed and `dest` is untouched.
 */
async function replaceAtomically<T>(dest: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  try {
    const result = await fill(tmp);
    await rename(tmp, dest);
    return result;
  } catch (err) {
    await removeQuietly(tmp);
    throw err;
  }
}

/**
 * Streams `chunks` into a temp file beside `dest` (parent dirs created), hashing on the way when
 * `hash`, fsyncs (unless `sync` is false), lets `verify` accept the sum, then renames it to `dest`. `mode`: permission
 * bits to set. On any error the temp file is removed and `dest` is untouched.
 */
export function writeAtomically(
  dest: string,
  chunks: AsyncIterable<Uint8Array>,
  hash: boolean,
  verify: Verifier,
  mode?: number,
  signal?: AbortSignal,
  sync = true,
): Promise<Written> {
  return replaceAtomically(dest, async (tmp) => {
    const fh = await open(tmp, 'wx');
    let bytes = 0;
    const h: Hash | undefined = hash ? createHash('sha256') : undefined;
    try {
      for await (const chunk of chunks) {
        signal?.throwIfAborted();
        h?.update(chunk);
        let off = 0;
        while (off < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
          off += bytesWritten;
        }
        bytes += chunk.byteLength;
      }
      if (mode !== undefined) await fh.chmod(mode & 0o7777);
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
    const written: Written = h ? { bytes, sha256: h.digest('hex') } : { bytes };
    verify(written);
    return written;
  });
}

/**
 * Copies `src` to `dest` through a temp file with copyFile (reflink when possible), fsync (unless
 * `sync` is false), rename.
 */
export function copyAtomically(src: string, dest: string, sync = true): Promise<Written> {
  return replaceAtomically(dest, async (tmp) => {
    await copyFile(src, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    if (!sync) return { bytes: (await stat(tmp)).size };
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
      return { bytes: (await fh.stat()).size };
    } finally {
      await fh.close();
    }
  });
}

/** Makes `dest` a symlink to `target` (replacing what is there) through a temp link and rename. */
export function symlinkAtomically(target: string, dest: string): Promise<void> {
  return replaceAtomically(dest, (tmp) => symlink(target, tmp));
}

/**
 * Reads a file in chunks of up to 1 MB; `size` (when known) keeps the buffer small for small
 * files (a 1 MB buffer per tiny file costs more than the copy).
 */
export function readChunks(path: string, size?: number, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  const highWaterMark = size === undefined ? CHUNK : Math.min(CHUNK, Math.max(size + 1, 16 * 1024));
  return createReadStream(path, { highWaterMark, signal });
}

/** sha256 (hex) and size of a file, streamed. */
export async function hashFile(path: string, size?: number, signal?: AbortSignal): Promise<Written> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of readChunks(path, size, signal)) {
    h.update(chunk as Uint8Array);
    bytes += (chunk as Uint8Array).byteLength;
  }
  return { bytes, sha256: h.digest('hex') };
}
