import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicaCatalog } from '@pegasus-ts/model';
import { UsageError } from './errors.js';

/**
 * `--input-dir DIR` (Pegasus's `-I`): the files under each directory, listed now, as replicas on
 * site `local` (lfn = the path relative to DIR, pfn = its `file://` URL). A sub-workflow is planned
 * with its parent's work dir as one, so that files the parent's jobs made are found there.
 */
export function inputDirCatalog(dirs: readonly string[]): ReplicaCatalog {
  const replicas: ReplicaCatalog['replicas'] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
    } catch (e) {
      throw new UsageError(
        `--input-dir ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (expected a readable directory)`,
      );
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) continue;
      replicas.push({
        lfn: relative(dir, path),
        pfns: [{ site: 'local', pfn: pathToFileURL(path).href }],
        regex: false,
      });
    }
  }
  return { replicas };
}
