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
 * Creates the submit directory: `<dir>/<relativeDir>` when a relative dir is given (it must be
 * new or empty), else `<dir>/<user>/pegasus/<label>/runNNNN` (the next free number; a
 * concurrent planner that takes the same number makes this one try the next).
 * Returns the absolute path and the relative part.
 */
export async function createSubmitDir(
  dir: string,
  user: string,
  label: string,
  relativeDir?: string,
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
    const run = await nextRunName(parent);
    try {
      await mkdir(join(parent, run));
      return { submitDir: join(parent, run), relativeDir: `${user}/pegasus/${label}/${run}` };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new PlanError(`${parent}: could not create a new runNNNN directory (expected a writable directory)`);
}
