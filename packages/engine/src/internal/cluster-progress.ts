import { readFileSync } from 'node:fs';

/**
 * How many of a cluster .dag's tasks its rescue log marks DONE (`DONE <task>` lines of
 * pegasus-mpi-cluster's format), and how many tasks there are. Used when a batch system no
 * longer knows a finished job: a complete rescue log means the job did its work.
 */
export function clusterProgress(dagFile: string): { tasks: number; done: number } {
  const tasks = new Set<string>();
  for (const line of readLines(dagFile)) {
    const m = /^\s*TASK\s+(\S+)/.exec(line);
    if (m) tasks.add(m[1]);
  }
  const done = new Set<string>();
  for (const line of readLines(`${dagFile}.rescue`)) {
    const m = /^\s*DONE\s+(\S+)/.exec(line);
    if (m && tasks.has(m[1])) done.add(m[1]);
  }
  return { tasks: tasks.size, done: done.size };
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}
