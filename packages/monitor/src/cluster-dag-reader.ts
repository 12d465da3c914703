import { parseAnnotation, parseTaskLine, quoteArg } from '@pegasus-ts/cluster/dag-format';
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
  /** the command: executable and arguments, quoted as in a .dag file (the options left out) */
  command: string;
}

/**
 * Streams the tasks of a PMC-format .dag file (flat memory): TASK lines with the `#@ N TR ID`
 * annotation before them, read with the cluster runner's own line definitions (every option,
 * -f/-F included, is told from the command). Returns the number of tasks, or -1 when the file does not exist.
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
    let ann: ReturnType<typeof parseAnnotation>;
    for (let line = reader.next(); line !== undefined; line = reader.next()) {
      if (line.startsWith('#@ ')) {
        ann = parseAnnotation(line);
        continue;
      }
      const task = parseTaskLine(line);
      if (!task) continue;
      count++;
      onTask({
        index: count,
        name: task.name,
        abstractId: ann?.daxId ?? task.name,
        transformation: ann?.transformation ?? '',
        command: task.argv.map(quoteArg).join(' '),
      });
      ann = undefined;
    }
  } finally {
    reader.close();
  }
  return count;
}
