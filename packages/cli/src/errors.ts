import { CommanderError } from 'commander';
import type { CliIo } from './io.js';

/** Exit code for command line usage errors (commander's own and the packages' UsageError). */
export const EXIT_USAGE = 2;
/** Exit code for a bug (an error nobody meant the user to see). */
export const EXIT_INTERNAL = 70;

/**
 * True for the errors our packages throw for the user: an Error whose class name ends in
 * `Error` and which carries an `exitCode` (UserError, UsageError, DagError, kickstart's).
 */
export function isUserError(err: unknown): err is Error & { exitCode?: unknown } {
  if (!(err instanceof Error) || err instanceof CommanderError) return false;
  const className = err.constructor?.name ?? '';
  return className.endsWith('Error') && ('exitCode' in err || /^(User|Usage)Error$/.test(err.name));
}

/** The exit code for commander's own exceptions (help and version are not failures). */
export function commanderExitCode(err: CommanderError): number {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
  return err.exitCode === 0 ? 0 : EXIT_USAGE;
}

/**
 * Prints `err` for the user (one line, no stack unless PEGASUS_TS_DEBUG=1) and returns the
 * exit code. `where` is `pegasus-ts` or `pegasus-ts <cmd>`.
 */
export function reportError(err: unknown, where: string, io: CliIo): number {
  const debug = Boolean(io.env.PEGASUS_TS_DEBUG && io.env.PEGASUS_TS_DEBUG !== '0');
  if (err instanceof CommanderError) {
    const code = commanderExitCode(err);
    // Help/version output and the "no subcommand" help were already written by commander.
    if (code !== 0 && err.code !== 'commander.help' && err.code !== 'commander.executeSubCommandAsync') {
      const message = err.message.replace(/^error: /, '');
      io.stderr(`${where}: ${message} (see '${where} --help')\n`);
    }
    return code;
  }
  if (isUserError(err)) {
    io.stderr(`${where}: ${err.message}\n`);
    if (debug && err.stack) io.stderr(`${err.stack}\n`);
    const code = err.exitCode;
    return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255 ? code : EXIT_USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`${where}: ${message} (internal error; run with PEGASUS_TS_DEBUG=1 for the stack)\n`);
  if (debug) io.stderr(`${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
  return EXIT_INTERNAL;
}
