import { readFileSync } from 'node:fs';
import { parseInvocationText } from '@pegasus-ts/kickstart/record-reader';
import { exitCodeOfWaitStatus } from '@pegasus-ts/kickstart/wait-status';

/**
 * The exit code kickstart reported for its main job in an invocation record (read by kickstart's
 * record reader): an exit code as is, a signal N as 128+N, a launch failure as 127. The last
 * complete record in the file wins. Undefined when the file is missing or holds no status.
 */
export function exitFromRecord(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return exitFromRecordText(text);
}

export function exitFromRecordText(text: string): number | undefined {
  const { records } = parseInvocationText(text, true);
  const last = records[records.length - 1];
  return last === undefined ? undefined : exitCodeOfWaitStatus(last.raw);
}
