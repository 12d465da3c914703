// Builds mpi_transport.node with cmake-js against the MPI found on this machine (OpenMPI or
// MPICH). Never fails setup: without an MPI compiler (mpicc), cmake, a C++ compiler or
// cmake-js it prints one line and exits 0; the cluster runner then offers only ZeroMQ.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function skip(why) {
  console.log(`native/mpi: not built (${why}); the cluster runner will use ZeroMQ only`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported`);
for (const tool of ['mpicc', 'cmake', 'c++']) {
  const r = spawnSync(tool, [tool === 'mpicc' ? '-showme:version' : '--version'], { stdio: 'ignore' });
  if (r.error) skip(tool === 'mpicc' ? 'no MPI compiler (mpicc) found' : `${tool} not found`);
}
let cli;
try {
  cli = require.resolve('cmake-js/bin/cmake-js');
} catch {
  skip('cmake-js is not installed');
}
const quiet = !process.argv.includes('--verbose');
const r = spawnSync(process.execPath, [cli, 'compile', '--directory', here], {
  cwd: here,
  stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  env: { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir || '/usr' },
  encoding: 'utf8',
});
const out = join(here, 'build', 'Release', 'mpi_transport.node');
if (r.status !== 0 || !existsSync(out)) {
  if (quiet) {
    const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
    process.stderr.write(`${text.split('\n').slice(-15).join('\n')}\n`);
  }
  skip(
    `cmake-js failed${r.status === null ? '' : ` with exit ${r.status}`}; run "node native/mpi/build.mjs --verbose"`,
  );
}
console.log(`native/mpi: built ${out}`);
