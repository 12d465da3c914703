import { originOf } from './internal/source.js';

/**
 * Where a loaded model object (workflow, job, use, dependency, site, transformation, replica, ...)
 * was written (or, given keys, where the value under them is, e.g. `locationOf(site, 'profiles',
 * 'pegasus', 'cores')`): file, 1-based line and column; undefined for objects built in code. Lets later
 * stages (the planner) report their own errors against the user's file.
 */
export function locationOf(
  obj: object,
  ...keys: string[]
): { file: string; line: number; column: number } | undefined {
  const o = originOf(obj);
  if (!o) return undefined;
  return { file: o.source.file, ...o.source.locate([...o.path, ...keys], keys.length > 0) };
}
