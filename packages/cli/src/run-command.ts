import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CommandContext } from './program.js';

interface RunFlags {
  foreground?: boolean;
  slots?: string;
  clusterWorkers?: string;
  poll?: string;
  quiet?: boolean;
}

/** How the engine starts `pegasus-ts` (kickstart, transfer, mpi-cluster): this very program. */
export function pegasusTsCommand(env: NodeJS.ProcessEnv): string[] {
  const bin = fileURLToPath(new URL('../bin/pegasus-ts.js', import.meta.url));
  return env.PEGASUS_TS_SELF ? env.PEGASUS_TS_SELF.split(' ') : [process.execPath, bin];
}

type Engine = typeof import('@pegasus-ts/engine');

function count(engine: Engine, name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new engine.UsageError(`${name} ${value} (expected an integer >= ${min})`);
  return n;
}

function stamp(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 19);
}

/** Starts the engine on a submit dir: detached (default) or in this process. Shared by `run` and `plan --submit`. */
export async function runSubmitDir(submitDir: string, flags: RunFlags, ctx: CommandContext): Promise<number> {
  const engine = await import('@pegasus-ts/engine');
  const pegasusTs = pegasusTsCommand(ctx.io.env);
  // for the service's workflow list; never fails the run (a read-only HOME warns once)
  const { registerWorkflow } = await import('@pegasus-ts/service/registry');
  registerWorkflow(engine.submitDirOf(submitDir), {
    env: ctx.io.env,
    warn: (line) => ctx.io.stderr(`${line}\n`),
  });
  const slots = count(engine, '--slots', flags.slots, 1);
  const clusterWorkers = count(engine, '--cluster-workers', flags.clusterWorkers, 1);
  const pollMs = count(engine, '--poll', flags.poll, 50);
  if (!flags.foreground) {
    const passOn: string[] = [];
    if (slots !== undefined) passOn.push('--slots', String(slots));
    if (clusterWorkers !== undefined) passOn.push('--cluster-workers', String(clusterWorkers));
    if (pollMs !== undefined) passOn.push('--poll', String(pollMs));
    const dir = engine.submitDirOf(submitDir);
    const started = await engine.startDetached({
      submitDir: dir,
      foregroundCommand: [...pegasusTs, 'run', '--foreground', ...passOn],
      env: ctx.io.env,
    });
    if (started.exitCode !== undefined) {
      // it ran to its end already (e.g. nothing was left to do)
      ctx.io.stdout(`engine ${started.pid} ran and ended: ${started.lastLine?.replace(/^\S+ \S+ /, '')}\n`);
      return 0;
    }
    ctx.io.stdout(
      `engine started (pid ${started.pid}); it logs to ${dir}/engine.log\n` +
        `  pegasus-ts status ${dir}    # where it stands\n` +
        `  pegasus-ts remove ${dir}    # stop it\n`,
    );
    return 0;
  }
  const result = await engine.runForeground(foregroundOptions(engine, submitDir, flags, ctx));
  return result.exitCode;
}

/** The engine's options for a run in this process (`run --foreground`, `sub-workflow`). */
function foregroundOptions(
  engine: Engine,
  submitDir: string,
  flags: RunFlags,
  ctx: CommandContext,
): import('@pegasus-ts/engine').EngineOptions {
  const pollMs = count(engine, '--poll', flags.poll, 50);
  const isTty = Boolean(process.stderr.isTTY);
  let last = 0;
  return {
    submitDir,
    pegasusTs: pegasusTsCommand(ctx.io.env),
    slots: count(engine, '--slots', flags.slots, 1),
    clusterWorkers: count(engine, '--cluster-workers', flags.clusterWorkers, 1),
    slurm: pollMs === undefined ? undefined : { pollMs },
    env: ctx.io.env,
    log: (line) => ctx.io.stderr(`${stamp()} ${line}\n`),
    progress: flags.quiet
      ? undefined
      : (p) => {
          // A line every 5 s in a log, refreshed in place every second on a terminal.
          const now = Date.now();
          const end = p.running + p.queued + p.post + p.ready === 0;
          if (!isTty && !end && now - last < 5000) return;
          last = now;
          ctx.io.stderr(
            isTty
              ? `\r${engine.progressLine(p)}${end ? '\n' : ''}`
              : `${stamp()} ${engine.progressLine(p)}\n`,
          );
        },
  };
}

/** `pegasus-ts run` and `pegasus-ts remove`: thin glue over @pegasus-ts/engine. */
export function addRunCommands(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .summary('run a planned workflow (pegasus-run)')
    .description(
      'Drive every job of a submit directory (made by pegasus-ts plan) to its end: local jobs through ' +
        'kickstart, clustered jobs through the cluster runner, Slurm sites through sbatch. Detached by ' +
        'default (pid in SUBMIT_DIR/engine.pid, log in SUBMIT_DIR/engine.log). Running it again on the ' +
        'same dir resumes: finished jobs are not run again, and clustered jobs resume from their rescue logs.',
    )
    .argument('<submit_dir>', 'the submit directory')
    .option('--foreground', 'run in this process until the workflow ends; exit 0 only if it succeeded')
    .option('--slots <n>', 'jobs at once on this machine (default: the number of CPUs)')
    .option('--cluster-workers <n>', 'workers per clustered job run on this machine (default: all slots)')
    .option('--poll <ms>', 'Slurm poll interval in milliseconds (default: 1000)')
    .option('-q, --quiet', 'no progress line')
    .action(async (submitDir: string, flags: RunFlags) => {
      ctx.setExitCode(await runSubmitDir(submitDir, flags, ctx));
    });
  program
    .command('sub-workflow')
    .summary('plan (if not yet) and run a sub-workflow: the command of a sub-workflow job')
    .description(
      'What a pegasusWorkflow or condorWorkflow job runs (under kickstart, started by the engine): plans ' +
        'the sub-workflow into SUBMIT_DIR with `pegasus-ts PLAN_ARGS...` unless SUBMIT_DIR holds a plan.yml, ' +
        'then runs it in the foreground; exits 0 only if it succeeded. Run again, it resumes. The parent ' +
        'engine passes its own --slots, --cluster-workers and --poll on.',
    )
    .argument('<submit_dir>', "the sub-workflow's submit directory")
    .argument('[plan_args...]', 'after --: the pegasus-ts arguments that plan it (plan FILE ...)')
    .option('--slots <n>', 'jobs at once on this machine (default: the number of CPUs)')
    .option('--cluster-workers <n>', 'workers per clustered job run on this machine (default: all slots)')
    .option('--poll <ms>', 'Slurm poll interval in milliseconds (default: 1000)')
    .action(async (submitDir: string, planArgs: string[], flags: RunFlags) => {
      const engine = await import('@pegasus-ts/engine');
      const { runProgram } = await import('./program.js');
      const result = await engine.runSubWorkflow({
        ...foregroundOptions(engine, resolve(submitDir), { ...flags, quiet: true }, ctx),
        planCommand: planArgs,
        pegasusTsInProcess: (args) => runProgram(args, ctx.io),
      });
      ctx.setExitCode(result.exitCode);
    });
  program
    .command('remove')
    .summary('stop a running workflow (pegasus-remove)')
    .description(
      'Stop the engine driving SUBMIT_DIR: running jobs are cancelled (local processes ended, Slurm jobs ' +
        'scancelled) and recorded; pegasus-ts run resumes later. With no engine running, cancels the jobs ' +
        'it left behind.',
    )
    .argument('<submit_dir>', 'the submit directory')
    .action(async (submitDir: string) => {
      const { removeWorkflow } = await import('@pegasus-ts/engine');
      const r = await removeWorkflow(submitDir, { env: ctx.io.env });
      if (r.engine) ctx.io.stdout(`stopped the engine (pid ${r.engine})\n`);
      else if (r.cancelled.length)
        ctx.io.stdout(`no engine was running; cancelled ${r.cancelled.join(', ')}\n`);
      else ctx.io.stdout('no engine was running and nothing was in flight\n');
      ctx.setExitCode(0);
    });
}
