// Builds launch.node and pegasus-ts-spawner with cmake-js. Never fails setup: when the build is
// impossible (no cmake, no compiler, ...) it prints one line and exits 0; the kickstart package
// then uses its child_process fallback.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function skip(why) {
  console.log(`native/launch: not built (${why}); the child_process fallback will be used`);
  process.exit(0);
}

if (process.platform !== 'linux') skip(`platform ${process.platform} is not supported`);
for (const tool of ['cmake', 'cc', 'c++']) {
  const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) skip(`${tool} not found`);
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
const out = join(here, 'build', 'Release');
if (r.status !== 0 || !existsSync(join(out, 'launch.node')) || !existsSync(join(out, 'pegasus-ts-spawner'))) {
  if (quiet && r.stderr) process.stderr.write(r.stderr.split('\n').slice(-15).join('\n') + '\n');
  skip(
    `cmake-js failed${r.status === null ? '' : ` with exit ${r.status}`}; run "node native/launch/build.mjs --verbose"`,
  );
}
console.log(`native/launch: built ${join(out, 'launch.node')} and pegasus-ts-spawner`);
