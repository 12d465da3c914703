import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PlanError } from './errors.js';

/** `runNNNN` after the highest existing one in `parent` (4 digits, from run0001). */
export async function nextRunName(parent: string): Promise<string> {
  let max = 0;
  try {
    for (const name of await readdir(parent)) {
      const m = /^run(\d{4,})$/.exec(name);
      if (m) max = Math.max(max, Number(m[1]));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return `run${String(max + 1).padStart(4, '0')}`;
}

/**
 * The leaf of a submit dir with `pegasus.dir.useTimestamp`: the planning time in ISO 8601 basic
 * format with the local UTC offset, as Pegasus writes it (`20230303T222333-0800`).
 */
export function timestampRunName(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return (
    `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}T` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${sign}${p(Math.floor(a / 60))}${p(a % 60)}`
  );
}

/**
 * Creates the submit directory: `<dir>/<relativeDir>` when a relative dir is given (it must be
 * new or empty), else `<dir>/<user>/pegasus/<label>/runNNNN` (the next free number; a
 * concurrent planner that takes the same number makes this one try the next), or with
 * `timestamp` (`pegasus.dir.useTimestamp`) `<dir>/<user>/pegasus/<label>/<timestampRunName>`
 * (`.001`, `.002`, ... appended when a plan of the same second has it).
 * Returns the absolute path and the relative part, which is also the work dir under each
 * scratch dir and, with `pegasus.dir.storage.deep`, the outputs' dir under each storage dir.
 */
export async function createSubmitDir(
  dir: string,
  user: string,
  label: string,
  relativeDir?: string,
  timestamp?: Date,
): Promise<{ submitDir: string; relativeDir: string }> {
  if (relativeDir !== undefined) {
    const submitDir = join(dir, relativeDir);
    await mkdir(submitDir, { recursive: true });
    const entries = await readdir(submitDir);
    if (entries.length > 0) {
      throw new PlanError(
        `${submitDir}: the submit directory is not empty (expected a new or empty directory)`,
      );
    }
    return { submitDir, relativeDir };
  }
  const parent = join(dir, user, 'pegasus', label);
  await mkdir(parent, { recursive: true });
  for (let attempt = 0; attempt < 100; attempt++) {
    const run = timestamp
      ? `${timestampRunName(timestamp)}${attempt === 0 ? '' : `.${String(attempt).padStart(3, '0')}`}`
      : await nextRunName(parent);
    try {
      await mkdir(join(parent, run));
      return { submitDir: join(parent, run), relativeDir: `${user}/pegasus/${label}/${run}` };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new PlanError(`${parent}: could not create a new run directory (expected a writable directory)`);
}
