import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface AnalyzerFlags {
  json?: boolean;
  tasks?: string;
  lines?: string;
}

/** `pegasus-ts analyzer`: thin glue over @pegasus-ts/monitor's analyze/formatAnalyzer. */
export function registerAnalyzerCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('analyzer')
    .summary('what went wrong in a workflow (pegasus-analyzer)')
    .description(
      'Summarize the jobs of a workflow (succeeded, failed, retrying, running, unsubmitted), then ' +
        'for each failed job: last state, site, host, exit code or signal, command line, the last ' +
        'lines of its stdout and stderr, its invocation record, and for a clustered job the failed ' +
        'tasks inside it, and for a sub-workflow job the analysis of its sub-workflow. Exits 1 when a job failed for good or the run ended without succeeding ' +
        "(failed, stopped, engine gone: status shows the run's state as Failure), 0 otherwise.",
    )
    .argument('<submit-dir>', 'the submit directory (runNNNN)')
    .option('-j, --json', 'print the report as JSON')
    .option('--tasks <n>', 'failed tasks shown per clustered job (default 10)')
    .option('--lines <n>', 'lines of stdout/stderr shown (default 20)')
    .action(async (submitDir: string, flags: AnalyzerFlags) => {
      const m = await import('@pegasus-ts/monitor');
      const int = (flag: string, v: string | undefined, d: number) => {
        if (v === undefined) return d;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
          throw new m.MonitorError(`${flag} ${v}: expected an integer from 0 to 1000000`, 2);
        return n;
      };
      const taskLimit = int('--tasks', flags.tasks, 10);
      const tailLines = int('--lines', flags.lines, 20);
      const { db } = await m.openMonitor(submitDir);
      try {
        const r = await m.analyzeTree(db, submitDir, { taskLimit, tailLines });
        ctx.io.stdout(flags.json ? `${JSON.stringify(r, null, 2)}\n` : m.formatAnalyzer(r));
        ctx.setExitCode(m.analyzerExitCode(r));
      } finally {
        db.close();
      }
    });
}
