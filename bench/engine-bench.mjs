#!/usr/bin/env node
// The whole stack on thousands of short serial tasks: the KOTO example (N simulations + a merge)
// planned with horizontal clustering and run by `pegasus-ts run --foreground` in local mode
// (create-dir, stage-in, clustered jobs through the cluster runner, merge, stage-out,
// registration, cleanup: every job under kickstart), beside the baseline of the same commands
// (N koto-sim, then koto-merge) run by `xargs -P SLOTS` in one directory. Prints a markdown table
// with the ratio; the engine's extra cost is planning, staging and the per-job overheads.
//   node bench/engine-bench.mjs [--jobs 2000] [--cluster-size 250] [--slots 2] [--runs 3]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    'cluster-size': { type: 'string', default: '250' },
    slots: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
  },
});
const n = Number(values.jobs);
const slots = Number(values.slots);
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'packages/cli/bin/pegasus-ts.js');
const sim = join(root, 'examples/koto/bin/koto-sim');
const merge = join(root, 'examples/koto/bin/koto-merge');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function engineRun() {
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
  try {
    execFileSync(process.execPath, [
      join(root, 'examples/koto/build-workflow.mjs'),
      ...['--jobs', String(n), '--out', dir, '--site', 'local', '--cluster-size', values['cluster-size']],
    ]);
    const t0 = performance.now();
    const submit = execFileSync(
      process.execPath,
      [
        bin,
        'plan',
        '--dir',
        join(dir, 'submit'),
        '--sites',
        'local',
        '--cluster',
        'horizontal',
        '--output-sites',
        'local',
        '-q',
        'workflow.yml',
      ],
      { cwd: dir, encoding: 'utf8' },
    ).trim();
    const t1 = performance.now();
    const r = spawnSync(
      process.execPath,
      [bin, 'run', '--foreground', '-q', '--slots', String(slots), submit],
      {
        encoding: 'utf8',
      },
    );
    const t2 = performance.now();
    if (r.status !== 0) throw new Error(`pegasus-ts run failed (${r.status}): ${r.stderr}`);
    return { plan: (t1 - t0) / 1000, run: (t2 - t1) / 1000, total: (t2 - t0) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function xargsRun() {
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-xargs-'));
  try {
    mkdirSync(join(dir, 'w'));
    writeFileSync(join(dir, 'w/geometry'), '<gdml/>\n');
    writeFileSync(join(dir, 'w/beam'), '{}\n');
    const lines = [];
    for (let i = 0; i < n; i++)
      lines.push(`--geometry geometry --beam beam --seed ${1000 + i} --events 10000 -o sim-${i}.root`);
    writeFileSync(join(dir, 'args'), `${lines.join('\n')}\n`);
    const outs = Array.from({ length: n }, (_, i) => `sim-${i}.root`).join(' ');
    const script = `cd "${dir}/w" && xargs -P ${slots} -L 1 ${sim} < ../args > /dev/null && ${merge} -o merged.root ${outs} > /dev/null`;
    const t0 = performance.now();
    execFileSync('bash', ['-c', script]);
    return (performance.now() - t0) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = Number(values.runs);
const engine = [];
const xargs = [];
for (let k = 0; k < runs; k++) {
  xargs.push(xargsRun());
  engine.push(engineRun());
  process.stderr.write(
    `[engine-bench] run ${k + 1}/${runs}: xargs ${xargs[k].toFixed(2)} s, engine ${engine[k].total.toFixed(2)} s\n`,
  );
}
const e = median(engine.map((x) => x.total));
const x = median(xargs);
console.log(`\n### Whole stack: KOTO ${n} simulations + merge, ${slots} slots (medians of ${runs})\n`);
console.log('| method | wall time (s) | tasks/s | vs xargs |');
console.log('|---|---|---|---|');
console.log(`| xargs -P ${slots} (the commands alone) | ${x.toFixed(2)} | ${(n / x).toFixed(0)} | 1.00x |`);
console.log(
  `| pegasus-ts plan + run (clusters of ${values['cluster-size']}) | ${e.toFixed(2)} (plan ${median(engine.map((r) => r.plan)).toFixed(2)}) | ${(n / e).toFixed(0)} | ${(x / e).toFixed(2)}x |`,
);
