import {
  buildInvocationRecord,
  formatRecordYaml,
  type LaunchResult,
  type LaunchSpec,
} from '@pegasus-ts/kickstart';
import type { TaskCommand } from './protocol.js';

const DEV_NULL = { file_name: '/dev/null' };

/**
 * The invocation record (Pegasus kickstart 3.0 YAML, one sequence item) of one task attempt
 * run by a worker. The task's output is merged into the run's .out/.err files, so the record
 * embeds it only when the attempt failed; `derivation` is the task's `#@` id when it has one.
 */
export function taskRecordYaml(
  t: TaskCommand,
  spec: LaunchSpec,
  res: LaunchResult,
  hostname: string,
  rank: number,
): string {
  const succeeded = res.raw === 0;
  const stdio = (target: LaunchSpec['stdout']) =>
    target && typeof target === 'object' && 'file' in target ? { file_name: target.file } : {};
  const record = buildInvocationRecord({
    derivation: t.pegasusId ?? t.name,
    resource: hostname,
    noHeader: true,
    quiet: true,
    start: res.start,
    end: res.start + res.duration * 1000,
    result: res,
    argv: t.argv,
    cwd: spec.cwd ?? process.cwd(),
    executable: { file_name: res.executable || t.argv[0] },
    statFiles: [],
    stdin: DEV_NULL,
    stdout: stdio(spec.stdout),
    stderr: stdio(spec.stderr),
    environment: () => ({ ...spec.env, PMC_RANK: String(rank) }),
    succeeded,
  });
  return formatRecordYaml(record);
}
