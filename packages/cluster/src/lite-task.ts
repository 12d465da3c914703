import { basename, join } from 'node:path';
import type { LaunchHandle, LaunchResult, LaunchSpec } from '@pegasus-ts/kickstart';

// A task run in a scratch dir of its own (a nonsharedfs job of a clustered job): its .dag line is
// `pegasus-ts lite --spec FILE -- EXE ARGS`, which any runner can start as a program; this runner
// does the same work in the worker (no process for the wrapper: a few ms a task), through
// @pegasus-ts/transfer's runLiteJob.

/** The spec file and the task of a `pegasus-ts lite --spec FILE -- EXE ARGS` command, else undefined. */
export function liteTaskArgs(argv: readonly string[]): { spec: string; argv: string[] } | undefined {
  if (argv.length < 5 || basename(argv[0]) !== 'pegasus-ts' || argv[1] !== 'lite') return undefined;
  if (argv[2] !== '--spec' || argv[4] !== '--' || argv.length < 6) return undefined;
  return { spec: argv[3], argv: argv.slice(5) };
}

/** A launch result for a task that never started or whose files failed to move (exit 1). */
export function failedLaunch(start: number, executable: string, base?: LaunchResult): LaunchResult {
  return {
    pid: 0,
    timedOut: false,
    usage: null,
    executable,
    ...base,
    start: base?.start ?? start,
    duration: base?.duration ?? (Date.now() - start) / 1000,
    raw: 256,
    status: { kind: 'exit', code: 1 },
  };
}

/**
 * Runs a lite task: stage in, `launch` the task in the scratch dir (its stdio on the spec's files
 * there), stage out, clean up. Resolves to the task's launch result (exit 1 when a file failed to
 * move) and the lite log lines (failures) for the task's error text.
 */
export async function runLiteTask(
  specFile: string,
  spec: LaunchSpec,
  launch: (spec: LaunchSpec) => LaunchHandle,
): Promise<{ result: LaunchResult; log: string[] }> {
  const t = await import('@pegasus-ts/transfer');
  const log: string[] = [];
  const start = Date.now();
  let launched: LaunchResult | undefined;
  try {
    const lite = await t.readLiteSpec(specFile);
    const r = await t.runLiteJob(
      lite,
      async (dir, s) => {
        const inDir: LaunchSpec = { ...spec, cwd: dir };
        if (s.stdin) inDir.stdin = join(dir, s.stdin);
        if (s.stdout) inDir.stdout = { file: join(dir, s.stdout) };
        if (s.stderr) inDir.stderr = { file: join(dir, s.stderr) };
        const handle = launch(inDir);
        // checkpoint.time and maxwalltime: SIGTERM, then SIGKILL, to the task's process group
        const timers = [
          s.termAfter ? setTimeout(() => handle.signal('SIGTERM'), s.termAfter * 1000) : undefined,
          s.killAfter ? setTimeout(() => handle.signal('SIGKILL'), s.killAfter * 1000) : undefined,
        ];
        try {
          launched = await handle.result;
        } finally {
          for (const timer of timers) clearTimeout(timer);
        }
        return launched.status.kind === 'exit' ? launched.status.code : 128 + signalNumber(launched);
      },
      { log: (line) => log.push(line) },
    );
    if (
      launched &&
      r.exitCode === (launched.status.kind === 'exit' ? launched.status.code : 128 + signalNumber(launched))
    ) {
      return { result: launched, log };
    }
    return { result: failedLaunch(start, spec.argv[0], launched), log };
  } catch (err) {
    log.push(`lite: ${(err as Error).message}`);
    return { result: failedLaunch(start, spec.argv[0], launched), log };
  }
}

/** The number of the signal that ended a task (SIGTERM's when it did not end by a signal). */
function signalNumber(r: LaunchResult): number {
  return r.status.kind === 'signal' ? r.status.signal : 15;
}
