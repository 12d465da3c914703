/**
 * The lines of the PMC .dag format, one definition for every writer and reader (the cluster
 * runner's parser, the planner's writer, the monitor's task reader):
 *
 *   #@ TASKID TRANSFORMATION DAXID
 *   TASK NAME [-m MB] [-c CPUS] [-g GPUS] [-t TRIES] [-p PRIO] [-f A=B]... [-F A=B]... EXECUTABLE [ARGS...]
 *   EDGE PARENT CHILD
 *
 * Arguments are quoted for PMC's splitter (`quoteArg`/`splitArgs`). Loads nothing but
 * split-args.ts: import it as `@pegasus-ts/cluster/dag-format` (no ZeroMQ, no native code).
 */
import { quoteArg, splitArgs } from './split-args.js';

export { quoteArg, splitArgs };

/** The TASK options, each with its long spelling; every one takes a value. */
export const TASK_OPTIONS = [
  ['-m', '--request-memory'],
  ['-c', '--request-cpus'],
  ['-g', '--request-gpus'],
  ['-t', '--tries'],
  ['-p', '--priority'],
  ['-f', '--pipe-forward'],
  ['-F', '--file-forward'],
] as const;

const OPTION_SPELLINGS: ReadonlySet<string> = new Set(TASK_OPTIONS.flat());

/** Whether `word` is a TASK option (short or long). */
export function isTaskOption(word: string): boolean {
  return OPTION_SPELLINGS.has(word);
}

/** What a TASK line says. Options left out are not written (the reader's defaults apply). */
export interface TaskLineFields {
  name: string;
  /** MB */
  memory?: number;
  cpus?: number;
  /** GPUs (an extension of PMC's format: `-g N`) */
  gpus?: number;
  tries?: number;
  priority?: number;
  /** `-f NAME=PATH` */
  pipeForwards?: readonly (readonly [string, string])[];
  /** `-F SRC=DEST` */
  fileForwards?: readonly (readonly [string, string])[];
  /** options written as they are, after the others (Pegasus's `pmc_task_arguments`) */
  extra?: string;
  /** executable first */
  argv: readonly string[];
}

/** A TASK line (no newline); throws when an argument holds a newline. */
export function taskLine(t: TaskLineFields): string {
  let l = `TASK ${t.name}`;
  if (t.memory !== undefined) l += ` -m ${t.memory}`;
  if (t.cpus !== undefined) l += ` -c ${t.cpus}`;
  if (t.gpus !== undefined) l += ` -g ${t.gpus}`;
  if (t.tries !== undefined) l += ` -t ${t.tries}`;
  if (t.priority !== undefined) l += ` -p ${t.priority}`;
  for (const [a, b] of t.pipeForwards ?? []) l += ` -f ${quoteArg(`${a}=${b}`)}`;
  for (const [a, b] of t.fileForwards ?? []) l += ` -F ${quoteArg(`${a}=${b}`)}`;
  if (t.extra !== undefined && t.extra.trim() !== '') l += ` ${t.extra.trim()}`;
  for (const a of t.argv) {
    if (a.includes('\n')) throw new Error(`task ${t.name}: an argument contains a newline`);
    l += ` ${quoteArg(a)}`;
  }
  return l;
}

/** The `#@` annotation before a TASK line (no newline). */
export function annotationLine(taskId: string | number, transformation: string, daxId: string): string {
  return `#@ ${taskId} ${transformation} ${daxId}`;
}

/** An EDGE line (no newline). */
export function edgeLine(parent: string, child: string): string {
  return `EDGE ${parent} ${child}`;
}

/** A `#@ TASKID TRANSFORMATION DAXID` line's fields; undefined when it is not one. */
export function parseAnnotation(
  line: string,
): { taskId: string; transformation: string; daxId: string } | undefined {
  const f = line.trim().split(/[ \t\r\n]+/);
  if (f[0] !== '#@' || f.length < 4) return undefined;
  return { taskId: f[1], transformation: f[2], daxId: f[3] };
}

/**
 * A TASK line's name and command (executable and arguments, options and their values skipped),
 * for readers that keep tasks rather than a runnable DAG; undefined when it is not a TASK line.
 */
export function parseTaskLine(line: string): { name: string; argv: string[] } | undefined {
  const t = line.replace(/^[ \t]+/, '');
  if (!t.startsWith('TASK') || !(t[4] === ' ' || t[4] === '\t')) return undefined;
  const m = /^[ \t]+([^ \t\r\n]+)/.exec(t.slice(4));
  if (!m) return undefined;
  const words = splitArgs(t.slice(4 + m[0].length));
  let k = 0;
  while (k + 1 < words.length && isTaskOption(words[k])) k += 2;
  return { name: m[1], argv: words.slice(k) };
}
