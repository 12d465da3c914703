import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * PMC's resolution (same as the spawner's): a name with a '/' is taken relative to cwd; else
 * cwd/name when it is an executable file; else the first executable PATH entry; else the name
 * unchanged (the exec then fails with ENOENT).
 */
export function resolveExecutable(name: string, cwd: string, path: string | undefined): string {
  if (name.includes('/')) return resolve(cwd, name);
  const local = join(cwd, name);
  if (isExecutableFile(local)) return local;
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = resolve(cwd, dir || '.', name);
    if (isExecutableFile(p)) return p;
  }
  return name;
}
