#!/usr/bin/env node
// Peak scratch usage without a shared filesystem (issue 13): a workflow run with
// pegasus.data.configuration=nonsharedfs and a separate staging site by `pegasus-ts run`, twice in
// the same run: with in-place cleanup (clean-up jobs remove files from the staging site once their
// last reader is done) and without cleanup. Every 50 ms the bench sums the bytes and files under
// the staging site's dir and the node-local scratch root; it prints the peaks side by side and
// their ratio. Shapes: `koto` (the KOTO example: simulations fanning in to one merge, each
// simulation's output padded to --pad-kb) and `chain` (--jobs steps, each reading its parent's
// output and writing --pad-kb of its own; only the last output is staged out).
//   node bench/scratch-bench.mjs [--shape koto|chain] [--jobs 40] [--pad-kb 256]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'packages/cli/bin/pegasus-ts.js');
const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'koto' },
    jobs: { type: 'string', default: '40' },
    'pad-kb': { type: 'string', default: '256' },
  },
});
const shape = values.shape;
if (shape !== 'koto' && shape !== 'chain') {
  console.error(`scratch-bench: --shape ${shape} (expected koto or chain)`);
  process.exit(2);
}
const jobs = Number(values.jobs);
const padKb = Number(values['pad-kb']);

function run(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`pegasus-ts ${argv[0]} exited ${code}`)),
    );
  });
}

/** Bytes and files under `dir` (0 when it does not exist). */
function usage(dir) {
  let bytes = 0;
  let files = 0;
  let names = [];
  try {
    names = readdirSync(dir, { recursive: true });
  } catch {
    return { bytes, files };
  }
  for (const n of names) {
    try {
      const st = statSync(path.join(dir, n));
      if (st.isFile()) {
        bytes += st.size;
        files++;
      }
    } catch {
      /* removed meanwhile */
    }
  }
  return { bytes, files };
}

/** The KOTO example in `dir`, its simulation padded by padKb. */
async function buildKoto(dir) {
  await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [
      path.join(ROOT, 'examples/koto/build-workflow.mjs'),
      ...['--jobs', String(jobs), '--out', dir, '--site', 'local'],
    ]);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error('build-workflow failed'))));
  });
  // a simulation whose output (its last argument) is padKb larger than the stand-in's
  const sim = path.join(dir, 'koto-sim-padded');
  writeFileSync(
    sim,
    `#!/bin/sh\n${path.join(ROOT, 'examples/koto/bin/koto-sim')} "$@" || exit $?\nfor out; do :; done\nhead -c ${padKb * 1024} /dev/zero >> "$out"\n`,
    { mode: 0o755 },
  );
  const tc = path.join(dir, 'transformations.yml');
  writeFileSync(tc, readFileSync(tc, 'utf8').replace(/pfn: \S*koto-sim\b/, `pfn: ${sim}`));
}

/** A chain of `jobs` steps in `dir`: step k reads c(k-1).dat (step 0 a raw input) and writes padKb to ck.dat. */
function buildChain(dir) {
  const step = path.join(dir, 'step');
  writeFileSync(step, '#!/bin/sh\ntest -s "$1" || exit 1\nhead -c "$3" /dev/zero > "$2"\n', { mode: 0o755 });
  mkdirSync(path.join(dir, 'inputs'));
  writeFileSync(path.join(dir, 'inputs', 'c-in.dat'), Buffer.alloc(padKb * 1024));
  const lines = ["pegasus: '5.0'", 'name: chain', 'jobs:'];
  for (let k = 0; k < jobs; k++) {
    const input = k === 0 ? 'c-in.dat' : `c${k - 1}.dat`;
    const last = k === jobs - 1;
    lines.push(
      `  - {type: job, id: step${k}, name: step, arguments: [${input}, c${k}.dat, '${padKb * 1024}'], uses: [{lfn: ${input}, type: input}, {lfn: c${k}.dat, type: output, stageOut: ${last}, registerReplica: false}]}`,
    );
  }
  lines.push('jobDependencies:');
  for (let k = 1; k < jobs; k++) lines.push(`  - {id: step${k - 1}, children: [step${k}]}`);
  writeFileSync(path.join(dir, 'workflow.yml'), `${lines.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'transformations.yml'),
    `pegasus: '5.0'\ntransformations:\n  - {name: step, sites: [{name: local, pfn: ${step}, type: installed}]}\n`,
  );
  writeFileSync(
    path.join(dir, 'replicas.yml'),
    `pegasus: '5.0'\nreplicas:\n  - {lfn: c-in.dat, pfns: [{site: local, pfn: 'file://${dir}/inputs/c-in.dat'}]}\n`,
  );
  writeFileSync(
    path.join(dir, 'pegasus.properties'),
    [
      'pegasus.catalog.site.file = sites.yml',
      'pegasus.catalog.transformation.file = transformations.yml',
      'pegasus.catalog.replica.file = replicas.yml',
      '',
    ].join('\n'),
  );
}

async function once(cleanup) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pegasus-ts-scratch-bench-${cleanup}-`));
  if (shape === 'koto') await buildKoto(dir);
  else buildChain(dir);
  const d = (t, n) =>
    `{type: ${t}, path: '${dir}/${n}', fileServers: [{url: 'file://${dir}/${n}', operation: all}]}`;
  writeFileSync(
    path.join(dir, 'sites.yml'),
    [
      "pegasus: '5.0'",
      'sites:',
      `  - {name: local, directories: [${d('sharedScratch', 'submit-scratch')}, ${d('localStorage', 'outputs')}, ${d('localScratch', 'node-scratch')}], profiles: {env: {PATH: '/usr/local/bin:/usr/bin:/bin'}}}`,
      `  - {name: staging, directories: [${d('sharedScratch', 'staging')}], profiles: {pegasus: {auxillary.local: 'true'}}}`,
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(dir, 'node-scratch'));
  const submit = (
    await run(
      [
        'plan',
        ...['--dir', path.join(dir, 'submit'), '--sites', 'local', '--staging-site', 'local=staging'],
        ...['--output-sites', 'local', '--cleanup', cleanup, '-D', 'pegasus.data.configuration=nonsharedfs'],
        ...['-q', 'workflow.yml'],
      ],
      { cwd: dir },
    )
  )
    .trim()
    .split('\n')
    .pop();
  let peak = { bytes: 0, files: 0 };
  const sample = () => {
    const a = usage(path.join(dir, 'staging'));
    const b = usage(path.join(dir, 'node-scratch'));
    const u = { bytes: a.bytes + b.bytes, files: a.files + b.files };
    if (u.bytes > peak.bytes) peak = { ...u };
  };
  const timer = setInterval(sample, 50);
  const t0 = Date.now();
  await run(['run', '--foreground', '-q', submit]);
  clearInterval(timer);
  sample();
  const end = usage(path.join(dir, 'staging'));
  rmSync(dir, { recursive: true, force: true });
  return { peak, end, seconds: (Date.now() - t0) / 1000 };
}

const mb = (b) => (b / 1048576).toFixed(2);
const none = await once('none');
process.stderr.write(`cleanup none: peak ${mb(none.peak.bytes)} MB\n`);
const inplace = await once('inplace');
process.stderr.write(`cleanup inplace: peak ${mb(inplace.peak.bytes)} MB\n`);
console.log(
  '| shape | jobs | pad | cleanup | peak scratch (staging + node-local) | left on staging at the end | run time |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, r] of [
  ['none', none],
  ['inplace', inplace],
]) {
  console.log(
    `| ${shape} | ${jobs} | ${padKb} KB | ${name} | ${mb(r.peak.bytes)} MB (${r.peak.files} files) | ${mb(r.end.bytes)} MB (${r.end.files} files) | ${r.seconds.toFixed(1)} s |`,
  );
}
console.log(`\npeak with in-place cleanup / without: ${(inplace.peak.bytes / none.peak.bytes).toFixed(2)}x`);
