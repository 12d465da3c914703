import { type Command, InvalidArgumentError } from 'commander';
import { toKickstartOptions } from './kickstart-options.js';
import type { CommandContext } from './program.js';

/** The raw commander values of `pegasus-ts kickstart` (Pegasus kickstart's option letters). */
export interface KickstartFlags {
  transformation?: string;
  derivation?: string;
  resource?: string;
  wfLabel?: string;
  wfStamp?: string;
  omitHeader?: boolean;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  log?: string;
  statBefore: string[];
  statAfter: string[];
  workdir?: string;
  createWorkdir?: string;
  tailBytes?: number | 'all';
  full?: boolean;
  quiet?: boolean;
  killAfter?: number;
  killGrace?: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number of seconds >= 0, got '${value}'`);
  }
  return n;
}

function tailBytes(value: string): number | 'all' {
  if (value === 'all') return 'all';
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a byte count or 'all', got '${value}'`);
  return Number(value);
}

export function addKickstartCommand(program: Command, ctx: CommandContext): Command {
  return program
    .command('kickstart')
    .summary('launch one task and write its invocation record (pegasus-kickstart)')
    .description(
      'Launch one application, wait for it, and write a YAML invocation record (Pegasus format, ' +
        'version 3.0) of what happened: status, timing, resource usage, files, stdout/stderr tails. ' +
        'Exits with the application exit code (128+signal when killed, 127 when it cannot start).',
    )
    .usage('[options] [--] application [arguments...]')
    .argument('<application...>', 'the application to run and its arguments (put them after --)')
    .passThroughOptions()
    .option('-n, --transformation <tr>', 'transformation name (ns::name:version), recorded as transformation')
    .option('-N, --derivation <dv>', 'derivation (abstract job id), recorded as derivation')
    .option('-R, --resource <site>', 'site handle, recorded as resource')
    .option('-L, --wf-label <label>', 'workflow label, recorded as wf-label')
    .option('-T, --wf-stamp <iso>', 'workflow timestamp (ISO 8601), recorded as wf-stamp')
    .option('-H, --omit-header', 'omit the record header and the machine block (2nd+ task of a cluster)')
    .option('-i, --stdin <file>', "the application's stdin ('-' = share ours)", undefined)
    .option('-o, --stdout <file>', "send the application's stdout to file ('!file' appends, '-' shares ours)")
    .option('-e, --stderr <file>', "send the application's stderr to file ('!file' appends, '-' shares ours)")
    .option('-l, --log <file>', 'append the invocation record to file instead of printing it on stdout')
    .option(
      '-S, --stat-before <lfn=pfn>',
      "stat a file before the job ('@file' lists lfn=pfn lines; repeatable)",
      collect,
      [],
    )
    .option(
      '-s, --stat-after <lfn=pfn>',
      "stat an output after the job, with sha256 ('@file' works too; repeatable)",
      collect,
      [],
    )
    .option('-w, --workdir <dir>', 'change into dir before starting the application')
    .option('-W, --create-workdir <dir>', 'create dir (with parents), then change into it')
    .option(
      '-B, --tail-bytes <n|all>',
      'bytes of stdout/stderr tail embedded in the record (default 262144)',
      tailBytes,
    )
    .option('-f, --full', 'full record (environment, limits) even on success; implied on failure')
    .option('-q, --quiet', 'omit the stdout/stderr data when the job succeeded')
    .option('-k, --kill-after <s>', 'send SIGTERM to the application after s seconds (0 = never)', seconds)
    .option('-K, --kill-grace <s>', 'send SIGKILL s seconds after the SIGTERM (default 5)', seconds)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  pegasus-ts kickstart -- /bin/echo hello\n' +
        '  pegasus-ts kickstart -n demo::preprocess:1.0 -N ID01 -l record.yml -s f.b1=out/f.b1 -- ./preprocess\n',
    )
    .action(async (application: string[], flags: KickstartFlags) => {
      const options = toKickstartOptions(application, flags);
      ctx.setExitCode(await ctx.io.deps.runKickstart(options));
    });
}
