import { readFileSync } from 'node:fs';
import { exitCodeOfWaitStatus } from '@pegasus-ts/kickstart/wait-status';

/**
 * The exit code kickstart reported for its main job in an invocation record (YAML, kickstart 3.0
 * layout): `regular_exitcode: N` -> N, `signalled_signal: N` -> 128+N, a launch failure -> 127.
 * The last record in the file wins. Undefined when the file is missing or holds no status.
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
  const start = text.lastIndexOf('invocation: true');
  if (start < 0) return undefined;
  const main = text.indexOf('mainjob:', start);
  if (main < 0) return undefined;
  const status = text.indexOf('status:', main);
  if (status < 0) return undefined;
  const block = text.slice(status, status + 400);
  let m = /regular_exitcode: (-?\d+)/.exec(block);
  if (m) return Number(m[1]);
  m = /signalled_signal: (\d+)/.exec(block);
  if (m) return 128 + Number(m[1]);
  m = /raw: (-?\d+)/.exec(block);
  if (m) return exitCodeOfWaitStatus(Number(m[1]));
  return undefined;
}
