import type { RawClusterOptions } from '@pegasus-ts/cluster';
import { type Command, Option } from 'commander';
import type { ClusterOptionSpec } from './io.js';
import type { CommandContext } from './program.js';

const increment = (_value: string, previous: number): number => previous + 1;

/**
 * A commander Option for one spec from @pegasus-ts/cluster's clusterOptionHelp. Defaults are
 * shown in the help only: resolveClusterOptions applies them (and the PMC_* environment).
 * Counted flags (-v, -q) give the number of times they were given (-vv = 2).
 */
export function clusterOption(spec: ClusterOptionSpec): Option {
  const description =
    spec.defaultValue === undefined
      ? spec.description
      : `${spec.description} (default: ${spec.defaultValue})`;
  const option = new Option(spec.flags, description);
  if (spec.count) option.argParser(increment).default(0);
  return option;
}

export function addClusterCommand(program: Command, ctx: CommandContext): Command {
  const command = program
    .command('mpi-cluster')
    .summary('run a DAG of tasks on a master and workers (pegasus-mpi-cluster)')
    .description(
      'Run the tasks of a PMC-format DAG file on a master and workers, in dependency order, and ' +
        'append a DONE record to the rescue log for each task that succeeds (a rerun resumes). ' +
        'Local mode (--workers N) starts the workers on this machine; with --bind on the master and ' +
        '--worker --connect URL elsewhere (e.g. under srun), the processes find each other across machines.',
    )
    .argument('[dagfile]', 'the DAG file (TASK/EDGE lines, pegasus-mpi-cluster format)');
  for (const spec of ctx.io.deps.clusterOptionHelp) command.addOption(clusterOption(spec));
  return command
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pegasus-ts mpi-cluster --workers 2 diamond.dag\n' +
        '  pegasus-ts mpi-cluster --bind tcp://*:0 --secret-file s.key big.dag      # master\n' +
        '  srun pegasus-ts mpi-cluster --worker --connect tcp://HOST:PORT --secret-file s.key\n',
    )
    .action(async (dagFile: string | undefined, flags: RawClusterOptions) => {
      const options = ctx.io.deps.resolveClusterOptions({ ...flags, dagFile }, ctx.io.env);
      ctx.setExitCode(await ctx.io.deps.runCluster(options));
    });
}
