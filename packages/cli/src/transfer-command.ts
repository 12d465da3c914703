import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** What the transfer command needs of the program (a CommandContext fits). */
export interface TransferCommandContext {
  readonly io: Pick<CliIo, 'stdout' | 'stderr'>;
  setExitCode(code: number): void;
}

interface TransferFlags {
  spec: string;
  attempts?: string;
  backoffMs?: string;
  integrity?: string;
  jobs?: string;
  report?: string;
}

/** This process's stdout/stderr and exit code (when no program context is given). */
const processContext: TransferCommandContext = {
  io: {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
  },
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/**
 * `pegasus-ts transfer`: thin glue over @pegasus-ts/transfer. Exit 0 when every entry worked,
 * 1 when one failed (one `failed: ...` line each on stderr), 2 for bad options or a bad spec
 * (thrown as UsageError/SpecError, printed by the program in one line). `stdin` is read for
 * `--spec -` (default: process.stdin).
 */
export function registerTransferCommand(
  program: Command,
  ctx: TransferCommandContext = processContext,
  stdin?: NodeJS.ReadableStream,
): Command {
  return program
    .command('transfer')
    .summary('move files between URLs for a data job (pegasus-transfer)')
    .description(
      'Run a transfer spec: a JSON array of transfer (file://, symlink://, http(s):// sources tried in ' +
        'order, to a file:// or symlink:// destination), mkdir and remove entries, as the engine writes ' +
        'for stage-in, stage-out, inter-site, create-dir and cleanup jobs. Files are written to a temp ' +
        'name and renamed; sha256 sums are checked; failed entries are retried with backoff.',
    )
    .option('--spec <file>', 'the JSON spec; - reads standard input', '-')
    .option('--attempts <n>', 'tries per entry (default 3)')
    .option('--backoff-ms <n>', 'delay before the second try, doubled for each next one (default 1000)')
    .option(
      '--integrity <mode>',
      'none, verify (check given sums; default), full (sum every file) or nosymlink',
    )
    .option('--jobs <n>', 'entries run at once (default 4)')
    .option('--report <file>', 'write a JSON report of every entry')
    .action(async (flags: TransferFlags) => {
      // Loaded on use, so that other subcommands do not pay for it.
      const t = await import('@pegasus-ts/transfer');
      const options = t.parseTransferOptions({
        attempts: flags.attempts,
        backoffMs: flags.backoffMs,
        integrity: flags.integrity,
        jobs: flags.jobs,
      });
      const entries = await t.readSpecFile(flags.spec, stdin);
      // SIGTERM/SIGINT (a removed workflow, a job's timeout) stop the transfers cleanly: no temp
      // file is left behind, the report says which entries were stopped, the exit is 128+signal.
      const stop = new AbortController();
      let caught: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals): void => {
        caught ??= sig;
        stop.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const report = await t.runTransfers(entries, {
          ...options,
          signal: stop.signal,
          log: (line) => ctx.io.stderr(`${line}\n`),
        });
        if (flags.report) await t.writeReport(flags.report, report);
        for (const e of report.entries) if (!e.ok) ctx.io.stderr(`${t.failureLine(e)}\n`);
        ctx.io.stdout(`${t.summaryLine(report)}\n`);
        ctx.setExitCode(caught ? 128 + (caught === 'SIGINT' ? 2 : 15) : report.ok ? 0 : 1);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
