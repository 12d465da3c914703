import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface StatusFlags {
  long?: boolean;
  json?: boolean;
  watch?: string | boolean;
  limit?: string;
}

type Monitor = typeof import('@pegasus-ts/monitor');

function seconds(m: Monitor, flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new m.MonitorError(`${flag} ${value}: expected a number of seconds from ${min} to ${max}`, 2);
  }
  return n;
}

/** `pegasus-ts status`: thin glue over @pegasus-ts/monitor's queryStatus/formatStatus. */
export function registerStatusCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('status')
    .summary('progress of a workflow (pegasus-status)')
    .description(
      'Show how far a workflow is: jobs per state (UNREADY READY PRE IN_Q POST DONE FAIL), %DONE, ' +
        'the workflow state and a progress bar. Works while the workflow runs and after; reads the ' +
        "submit dir's files into its workflow.db first.",
    )
    .argument('<submit-dir>', 'the submit directory (runNNNN)')
    .option(
      '-l, --long',
      'also list the jobs submitted and not done (state, time in state, try, site), and a row per sub-workflow (nested)',
    )
    .option('--limit <n>', 'with -l: list at most n jobs (default 1000)')
    .option('-j, --json', 'print JSON: {totals, dags: {root}, condor_jobs} (pegasus-status -j)')
    .option('-w, --watch [sec]', 'repeat every sec seconds (default 2) until the workflow ends')
    .action(async (submitDir: string, flags: StatusFlags) => {
      const m = await import('@pegasus-ts/monitor');
      const limit = flags.limit === undefined ? 1000 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new m.MonitorError(`--limit ${flags.limit}: expected an integer >= 1`, 2);
      }
      const every =
        flags.watch === undefined || flags.watch === false
          ? 0
          : flags.watch === true
            ? 2
            : seconds(m, '--watch', flags.watch, 0.1, 86400);
      const ing = new m.Ingester(submitDir);
      try {
        for (;;) {
          await ing.ingest();
          const r = flags.long
            ? await m.queryStatusTree(ing.db, submitDir, { long: true, limit })
            : m.queryStatus(ing.db, submitDir, { limit });
          if (flags.json) ctx.io.stdout(`${JSON.stringify(m.statusJson(r), null, 2)}\n`);
          else ctx.io.stdout(m.formatStatus(r));
          if (every === 0 || r.run.state !== 'Running') break;
          await new Promise((res) => setTimeout(res, every * 1000));
          ctx.io.stdout('\n');
        }
      } finally {
        ing.close();
      }
      ctx.setExitCode(0);
    });
}
