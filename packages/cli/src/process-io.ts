import { readFile } from 'node:fs/promises';
import type { CliIo } from './io.js';

async function readVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

let pipeGuard = false;

/** A reader that closed our stdout early (`pegasus-ts --help | head`) is not an error. */
function ignoreClosedStdout(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return;
    process.stderr.write(`pegasus-ts: cannot write to stdout: ${err.message}\n`);
    process.exitCode = 74;
  });
}

/** The real io: this process's stdout/stderr/env and the real package functions. */
export async function processIo(): Promise<CliIo> {
  ignoreClosedStdout();
  // Only the option table is needed to build the program; the packages load when a command runs
  // (a `pegasus-ts transfer` or `status` starts in a fraction of the time).
  const [options, version] = await Promise.all([import('@pegasus-ts/cluster/options'), readVersion()]);
  return {
    version,
    env: process.env,
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    deps: {
      runKickstart: async (o) => {
        const kickstart = await import('@pegasus-ts/kickstart');
        try {
          return (await kickstart.runKickstart(o)).exitCode;
        } finally {
          // Release the launcher's spawner and the hash threads so that the process can exit.
          await kickstart.defaultLauncher().close();
          await kickstart.closeHashPool();
        }
      },
      clusterOptionHelp: options.clusterOptionHelp,
      resolveClusterOptions: options.resolveClusterOptions,
      runCluster: async (o) => (await import('@pegasus-ts/cluster/run')).runCluster(o),
    },
  };
}
