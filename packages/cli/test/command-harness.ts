// Runs one subcommand of the program in-process, the way runProgram does (commander with
// exitOverride, errors through reportError), capturing its output and exit code.
import { Command } from 'commander';
import { reportError } from '../src/errors.js';
import type { CommandContext } from '../src/program.js';

export interface CommandRun {
  code: number;
  out: string;
  err: string;
}

/** `register` adds the subcommand to a fresh program; then `pegasus-ts NAME ARGS` runs. */
export async function runCommand(
  name: string,
  args: readonly string[],
  register: (program: Command, ctx: CommandContext) => unknown,
): Promise<CommandRun> {
  let out = '';
  let err = '';
  let code = 0;
  const io = {
    version: '0',
    env: {},
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    deps: {} as never,
  };
  const program = new Command('pegasus-ts').exitOverride().configureOutput({
    writeOut: (s) => io.stdout(s),
    writeErr: (s) => io.stderr(s),
    outputError: () => {},
  });
  register(program, {
    io,
    setExitCode: (c) => {
      code = c;
    },
  });
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
  } catch (e) {
    code = reportError(e, `pegasus-ts ${name}`, io);
  }
  return { code, out, err };
}
