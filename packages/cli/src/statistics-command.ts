import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface StatisticsFlags {
  statistics?: string;
  outputDir?: string;
  timeFilter?: string;
}

/** `pegasus-ts statistics`: thin glue over @pegasus-ts/monitor's writeStatistics. */
export function registerStatisticsCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('statistics')
    .summary('workflow statistics (pegasus-statistics)')
    .description(
      'Print the summary table (tasks, jobs, sub-workflows: succeeded, failed, incomplete, total, ' +
        "retries; a hierarchical workflow's summed over every level) with workflow wall time, cumulative " +
        'job wall time and badput, and write it to statistics/summary.txt. With -s all also ' +
        "workflow.txt (each level's rows, then All), breakdown.txt (per transformation and host), " +
        'jobs.txt (per job attempt), time.txt and time-per-host.txt (per hour or day) and gantt.svg.',
    )
    .argument('<submit-dir>', 'the submit directory (runNNNN)')
    .option('-s, --statistics <level>', 'summary (default) or all')
    .option('-o, --output-dir <dir>', 'where to write the files (default SUBMIT_DIR/statistics)')
    .option('-t, --time-filter <unit>', 'time.txt granularity: hour (default) or day')
    .action(async (submitDir: string, flags: StatisticsFlags) => {
      const m = await import('@pegasus-ts/monitor');
      const level = flags.statistics ?? 'summary';
      if (level !== 'summary' && level !== 'all') {
        throw new m.MonitorError(`-s ${level}: expected summary or all`, 2);
      }
      const unit = flags.timeFilter ?? 'hour';
      if (unit !== 'hour' && unit !== 'day') throw new m.MonitorError(`-t ${unit}: expected hour or day`, 2);
      const { db } = await m.openMonitor(submitDir);
      try {
        const r = await m.writeStatistics(db, submitDir, {
          level,
          outputDir: flags.outputDir,
          timeUnit: unit,
        });
        ctx.io.stdout(r.text);
        ctx.io.stdout(`\nSummary written to ${r.files[0]}\n`);
        if (r.files.length > 1) {
          ctx.io.stdout(
            `Other statistics written to:\n${r.files
              .slice(1)
              .map((f) => `  ${f}\n`)
              .join('')}`,
          );
        }
        ctx.setExitCode(0);
      } finally {
        db.close();
      }
    });
}
