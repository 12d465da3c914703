import { processIo } from './process-io.js';
import { runProgram } from './program.js';

export { commanderExitCode, EXIT_INTERNAL, EXIT_USAGE, isUserError, reportError } from './errors.js';
export type { CliDeps, CliIo, ClusterOptionSpec } from './io.js';
export { processIo } from './process-io.js';
export { buildProgram, type CommandContext, runProgram } from './program.js';

/** The `pegasus-ts` program: `argv` is `process.argv` (node, script, args...). Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  return runProgram(argv.slice(2), await processIo());
}
