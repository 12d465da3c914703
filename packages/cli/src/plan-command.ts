import type { PlanOptions } from '@pegasus-ts/planner';
import type { Command } from 'commander';
import type { CommandContext } from './program.js';
import { runSubmitDir } from './run-command.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const increment = (_value: string, previous: number): number => previous + 1;

interface PlanFlags {
  dir?: string;
  relativeDir?: string;
  sites: string[];
  stagingSite: string[];
  outputSites: string[];
  outputDir?: string;
  inputDir: string[];
  cleanup?: string;
  cluster: string[];
  reuse: string[];
  force?: boolean;
  submit?: boolean;
  conf?: string;
  define: string[];
  verbose: number;
  quiet: number;
}

/** `pegasus-ts plan`: thin glue over @pegasus-ts/planner's plan(). */
export function addPlanCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('plan')
    .summary('plan an abstract workflow into a submit directory (pegasus-plan)')
    .description(
      'Plan a Pegasus 5.0 workflow (default ./workflow.yml) with its site, transformation and replica ' +
        'catalogs into an executable workflow: a submit directory with plan.yml, clusters/*.dag ' +
        '(cluster-runner input), clusters/*.sbatch for Slurm sites, braindump.yml and catalog copies.',
    )
    .argument('[workflow]', 'the abstract workflow (YAML)')
    .option(
      '--dir <dir>',
      'base submit directory (default: cwd); the run goes in DIR/USER/pegasus/LABEL/runNNNN',
    )
    .option(
      '--relative-dir <dir>',
      'submit dir DIR/RELATIVE exactly; also the work dir under each staging scratch',
    )
    .option('-s, --sites <sites>', 'candidate execution sites (comma-separated)', collect, [])
    .option('--staging-site <s>', 'staging site, or e1=s1,e2=s2 per execution site', collect, [])
    .option('-o, --output-sites <sites>', 'output sites (comma-separated); none = no stage-out', collect, [])
    .option(
      '-I, --input-dir <dirs>',
      'directories whose files are replicas on site local (comma-separated)',
      collect,
      [],
    )
    .option(
      '-O, --output-dir <dir>',
      'outputs staged to site local go here, not to its storage dir (implies -o local)',
    )
    .option('--cleanup <mode>', 'none, inplace or leaf (default: inplace)')
    .option(
      '-C, --cluster <styles>',
      'clustering: horizontal, label, whole (comma-separated, in order)',
      collect,
      [],
    )
    .option('-R, --reuse <dirs>', 'submit dirs of earlier runs whose outputs may be reused', collect, [])
    .option('-f, --force', 'skip data reuse')
    .option('-S, --submit', 'start the engine on the new submit dir (detached, as pegasus-ts run)')
    .option('--conf <file>', 'properties file (default: ./pegasus.properties)')
    .option('-D, --define <key=value>', 'set a property (repeatable)', collect, [])
    .option('-v, --verbose', 'more output', increment, 0)
    .option('-q, --quiet', 'less output', increment, 0)
    .action(async (workflow: string | undefined, flags: PlanFlags) => {
      const options: PlanOptions = {
        workflow,
        dir: flags.dir,
        relativeDir: flags.relativeDir,
        sites: flags.sites,
        stagingSite: flags.stagingSite,
        outputSites: flags.outputSites,
        outputDir: flags.outputDir,
        inputDirs: flags.inputDir,
        cleanup: flags.cleanup,
        cluster: flags.cluster,
        reuse: flags.reuse,
        force: flags.force,
        submit: flags.submit,
        conf: flags.conf,
        defines: flags.define,
        verbose: flags.verbose,
        quiet: flags.quiet,
        env: ctx.io.env,
        argv: process.argv.slice(2),
        log: flags.verbose > 0 ? (line) => ctx.io.stderr(`${line}\n`) : undefined,
      };
      // Loaded on use, so that other subcommands do not pay for the planner.
      const { plan } = await import('@pegasus-ts/planner');
      const result = await plan(options);
      if (flags.verbose > 0) {
        const t = Object.entries(result.timings)
          .map(([k, v]) => `${k} ${v} ms`)
          .join(', ');
        ctx.io.stderr(`timings: ${t}\n`);
      }
      if (flags.quiet === 0) {
        ctx.io.stdout(
          `planned ${result.jobs} jobs (${result.clusters} clustered jobs holding ${result.tasks} tasks), ${result.edges} edges\n`,
        );
      }
      // for the service's workflow list; never fails the plan (a read-only HOME warns once)
      const { registerWorkflow } = await import('@pegasus-ts/service/registry');
      registerWorkflow(result.submitDir, { env: ctx.io.env, warn: (line) => ctx.io.stderr(`${line}\n`) });
      ctx.io.stdout(`${result.submitDir}\n`);
      ctx.setExitCode(flags.submit ? await runSubmitDir(result.submitDir, {}, ctx) : 0);
    });
}
