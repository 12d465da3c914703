import { LineReader } from '@pegasus-ts/io';

/** One task of a cluster .dag file, as the monitor keeps it. */
export interface ClusterDagTask {
  /** 1-based position: the `#@ N` number, which the runner records as the derivation */
  index: number;
  /** PMC task name (TASK line) */
  name: string;
  /** abstract task id (`#@ N TR ID`), else the task name */
  abstractId: string;
  /** `#@ N TR ID` transformation, else '' */
  transformation: string;
  /** the command (executable and arguments, as written in the .dag) */
  command: string;
}

const TASK_OPTIONS = /^(?:(?:-[mctp]|--(?:request-memory|request-cpus|tries|priority))\s+\S+\s+)*/;

/**
 * Streams the tasks of a PMC-format .dag file (flat memory): TASK lines with the `#@ N TR ID`
 * annotation before them. Returns the number of tasks, or -1 when the file does not exist.
 */
export function readClusterDag(path: string, onTask: (t: ClusterDagTask) => void): number {
  let reader: LineReader;
  try {
    reader = new LineReader(path);
  } catch {
    return -1;
  }
  let count = 0;
  try {
    let ann: string[] | undefined;
    for (let line = reader.next(); line !== undefined; line = reader.next()) {
      if (line.startsWith('#@ ')) {
        ann = line.split(/\s+/);
        continue;
      }
      if (!line.startsWith('TASK ')) continue;
      const rest = line.slice(5).trimStart();
      const sp = rest.search(/\s/);
      const name = sp < 0 ? rest : rest.slice(0, sp);
      const tail = sp < 0 ? '' : rest.slice(sp).trim();
      const command = tail.replace(TASK_OPTIONS, '');
      count++;
      onTask({
        index: count,
        name,
        abstractId: ann && ann.length >= 4 ? ann[3] : name,
        transformation: ann && ann.length >= 4 ? ann[2] : '',
        command,
      });
      ann = undefined;
    }
  } finally {
    reader.close();
  }
  return count;
}
