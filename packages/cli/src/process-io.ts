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
  const [kickstart, cluster, version] = await Promise.all([
    import('@pegasus-ts/kickstart'),
    import('@pegasus-ts/cluster'),
    readVersion(),
  ]);
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
      runKickstart: async (options) => {
        try {
          return (await kickstart.runKickstart(options)).exitCode;
        } finally {
          // Release the launcher's spawner and the hash threads so that the process can exit.
          await kickstart.defaultLauncher().close();
          await kickstart.closeHashPool();
        }
      },
      clusterOptionHelp: cluster.clusterOptionHelp,
      resolveClusterOptions: cluster.resolveClusterOptions,
      runCluster: cluster.runCluster,
    },
  };
}
