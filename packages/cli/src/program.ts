import { Command } from 'commander';
import { registerAnalyzerCommand } from './analyzer-command.js';
import { addClusterCommand } from './cluster-command.js';
import { addEmCommand } from './em-command.js';
import { reportError } from './errors.js';
import type { CliIo } from './io.js';
import { addKickstartCommand } from './kickstart-command.js';
import { addLiteCommand } from './lite-command.js';
import { addPlanCommand } from './plan-command.js';
import { addRcClientCommand } from './rc-client-command.js';
import { addRunCommands } from './run-command.js';
import { registerServiceCommand } from './service-command.js';
import { registerStatisticsCommand } from './statistics-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerTransferCommand } from './transfer-command.js';

/** What a subcommand's action reports back to the program. */
export interface CommandContext {
  readonly io: CliIo;
  /** Records the exit code of the subcommand that ran. */
  setExitCode(code: number): void;
}

/**
 * The `pegasus-ts` commander program. It never calls process.exit and never writes to the
 * real stdout/stderr: all output goes through `io`, the exit code through `ctx.setExitCode`.
 */
export function buildProgram(io: CliIo, ctx: CommandContext = { io, setExitCode: () => {} }): Command {
  const program = new Command('pegasus-ts')
    .description('Pegasus-TS: run scientific workflows on HPC machines (one program, a subcommand per tool)')
    .version(io.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for pegasus-ts or a subcommand')
    .helpCommand('help [command]', 'show help for a subcommand')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Errors are printed by reportError, in one line, with the subcommand's name.
      outputError: () => {},
    });
  addKickstartCommand(program, ctx);
  addClusterCommand(program, ctx);
  addPlanCommand(program, ctx);
  addRunCommands(program, ctx);
  registerTransferCommand(program, ctx);
  addLiteCommand(program, ctx);
  addRcClientCommand(program, ctx);
  registerStatusCommand(program, ctx);
  registerAnalyzerCommand(program, ctx);
  registerStatisticsCommand(program, ctx);
  registerServiceCommand(program, ctx);
  addEmCommand(program, ctx);
  return program;
}

/** Parses `args` (without node and the script path), runs the subcommand, returns the exit code. */
export async function runProgram(args: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  let where = 'pegasus-ts';
  const ctx: CommandContext = {
    io,
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  const program = buildProgram(io, ctx);
  program.hook('preSubcommand', (_cmd, sub) => {
    where = `pegasus-ts ${sub.name()}`;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (err) {
    return reportError(err, where, io);
  }
  return exitCode;
}
