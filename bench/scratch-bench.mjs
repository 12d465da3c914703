#!/usr/bin/env node
// Peak scratch usage without a shared filesystem (issue 13): the KOTO workflow with
// pegasus.data.configuration=nonsharedfs and a separate staging site, run by `pegasus-ts run`
// twice in the same run: with in-place cleanup (clean-up jobs remove files from the staging site
// once their last reader is done) and without cleanup. Every 50 ms the bench sums the bytes and
// files under the staging site's dir and the node-local scratch root; it prints the peaks side by
// side and their ratio. Each simulation's output is padded to --pad-kb so the sizes mean something.
//   node bench/scratch-bench.mjs [--jobs 40] [--pad-kb 256]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'packages/cli/bin/pegasus-ts.js');
const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '40' }, 'pad-kb': { type: 'string', default: '256' } },
});
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

async function once(cleanup) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pegasus-ts-scratch-bench-${cleanup}-`));
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
  '| jobs | pad | cleanup | peak scratch (staging + node-local) | left on staging at the end | run time |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, r] of [
  ['none', none],
  ['inplace', inplace],
]) {
  console.log(
    `| ${jobs} | ${padKb} KB | ${name} | ${mb(r.peak.bytes)} MB (${r.peak.files} files) | ${mb(r.end.bytes)} MB (${r.end.files} files) | ${r.seconds.toFixed(1)} s |`,
  );
}
console.log(`\npeak with in-place cleanup / without: ${(inplace.peak.bytes / none.peak.bytes).toFixed(2)}x`);
