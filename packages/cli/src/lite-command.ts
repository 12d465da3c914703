import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface LiteFlags {
  spec: string;
  keep?: boolean;
}

/** The scratch-dir files of a task's stdio (`inherit` where the spec names none). */
interface TaskStdio {
  stdin?: string;
  stdout?: string;
  stderr?: string;
  /** seconds until SIGTERM (checkpoint.time) and SIGKILL (maxwalltime) */
  termAfter?: number;
  killAfter?: number;
}

/**
 * Runs `argv` in `cwd`, its stdio on the named files of `cwd` (else this process's); SIGTERM and
 * SIGINT are passed on. Resolves to its exit code (128 + signal when killed).
 */
function runTask(
  argv: readonly string[],
  cwd: string,
  io: TaskStdio,
  log: (line: string) => void,
): Promise<number> {
  const fds: number[] = [];
  const open = (lfn: string | undefined, flags: string): number | 'inherit' => {
    if (lfn === undefined) return 'inherit';
    fds.push(openSync(join(cwd, lfn), flags));
    return fds[fds.length - 1];
  };
  return new Promise((resolve) => {
    const stdio = [open(io.stdin, 'r'), open(io.stdout, 'w'), open(io.stderr, 'w')];
    // its own process group, so that a signal reaches everything the task started
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio, detached: true });
    for (const fd of fds) closeSync(fd);
    const forward = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const timers = [
      io.termAfter ? setTimeout(() => forward('SIGTERM'), io.termAfter * 1000) : undefined,
      io.killAfter ? setTimeout(() => forward('SIGKILL'), io.killAfter * 1000) : undefined,
    ];
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
    const done = (code: number): void => {
      for (const t of timers) clearTimeout(t);
      process.off('SIGTERM', forward);
      process.off('SIGINT', forward);
      resolve(code);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      log(`lite: cannot start ${argv[0]}: ${err.code ?? err.message}`);
      done(err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) =>
      done(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15)),
    );
  });
}

/**
 * `pegasus-ts lite --spec FILE -- EXE ARGS...`: thin glue over @pegasus-ts/transfer's
 * runLiteJob (a job with no shared filesystem: fresh scratch dir, inputs in, task, outputs out,
 * scratch removed). Exits with the task's code, 1 when a file failed to move, 2 for a bad spec.
 */
export function addLiteCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('lite')
    .summary('run a task in a fresh scratch dir, staging its files in and out (PegasusLite)')
    .description(
      'Make a scratch dir, pull the inputs the spec names from the staging site, run EXE ARGS there, ' +
        'push the outputs back and remove the scratch dir: how a compute job runs where the ' +
        'execution site shares no filesystem with its staging site (pegasus.data.configuration ' +
        'nonsharedfs or condorio).',
    )
    .requiredOption('--spec <file>', 'the lite spec (JSON) the planner wrote for the job')
    .option('--keep', 'keep the scratch dir (for debugging)')
    .argument('<command...>', 'the task: executable and arguments (after --)')
    .action(async (command: string[], flags: LiteFlags) => {
      const t = await import('@pegasus-ts/transfer');
      const spec = await t.readLiteSpec(flags.spec);
      const log = (line: string): void => ctx.io.stderr(`${line}\n`);
      const result = await t.runLiteJob(spec, (dir, s) => runTask(command, dir, s, log), {
        keep: flags.keep,
        log,
      });
      ctx.setExitCode(result.exitCode);
    });
}
