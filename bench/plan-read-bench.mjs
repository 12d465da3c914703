#!/usr/bin/env node
// Reading plan.yml: a KOTO-style workflow of --jobs simulations planned unclustered (one
// executable job per simulation, plus staging and cleanup jobs), then read, each in its own
// process (median of --runs), by the engine (`loadPlan`: jobs, edges, parent counts) and by the
// monitor (`readPlan`: the header, jobs and edges handed to a sink), beside a baseline of the same
// run: the file read in 1 MB blocks and split into lines (the floor for any line reader). Prints a
// markdown table with wall and CPU seconds, peak RSS and the ratios to the baseline (CPU time is
// the steadier figure on a loaded machine). Needs `pnpm exec tsc -b`.
//   node bench/plan-read-bench.mjs [--jobs 100000] [--runs 3] [--dir DIR] [--keep] [--before ROOT]
// --dir: reuse the submit dir planned before in DIR (same --jobs).
// --before ROOT: also time the readers of another built checkout (e.g. `git archive` of the commit
// before a change, its packages built), rows marked "(before)", for a before/after in one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
    plan: { type: 'string' },
    root: { type: 'string' },
    before: { type: 'string' },
  },
});
const root = new URL('..', import.meta.url).pathname;

if (values.child) {
  const from = values.root ?? root;
  const submitDir = values.plan;
  const file = join(submitDir, 'plan.yml');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let jobs = 0;
  let edges = 0;
  if (values.child === 'lines') {
    const { openSync, readSync, closeSync } = await import('node:fs');
    const fd = openSync(file, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    const decoder = new TextDecoder();
    let rest = '';
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      const lines = (rest + decoder.decode(buf.subarray(0, n), { stream: true })).split('\n');
      rest = lines.pop();
      for (const l of lines) if (l.startsWith('  - name: ')) jobs++;
    }
    closeSync(fd);
  } else if (values.child === 'engine') {
    const { loadPlan } = await import(join(from, 'packages/engine/dist/index.js'));
    const plan = await loadPlan(submitDir);
    jobs = plan.jobs.length;
    for (const c of plan.children) edges += c.length;
  } else {
    const { readPlan } = await import(join(from, 'packages/monitor/dist/index.js'));
    readPlan(file, { header() {}, job: () => jobs++, edge: () => edges++ }, () => {
      jobs = edges = 0;
    });
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  console.log(JSON.stringify({ s, cpu, jobs, edges, rssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const n = Number(values.jobs);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'plan-read-bench-'));
const bin = join(root, 'packages/cli/bin/pegasus-ts.js');
const findPlan = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isFile() && e.name === 'plan.yml') return d;
    if (e.isDirectory()) {
      const f = findPlan(p);
      if (f) return f;
    }
  }
  return undefined;
};
let submitDir = existsSync(join(dir, 'submit')) ? findPlan(join(dir, 'submit')) : undefined;
if (!submitDir) {
  console.error(`[bench] writing and planning a ${n}-simulation KOTO workflow in ${dir}`);
  execFileSync(process.execPath, [
    join(root, 'bench/gen-workflow.mjs'),
    '--jobs',
    String(n),
    '--shape',
    'koto',
    '--out',
    dir,
  ]);
  execFileSync(
    process.execPath,
    [
      bin,
      'plan',
      '--dir',
      join(dir, 'submit'),
      '--sites',
      'hpc',
      '--output-sites',
      'local',
      '-f',
      '-q',
      'workflow.yml',
    ],
    { cwd: dir },
  );
  submitDir = findPlan(join(dir, 'submit'));
}
const mb = statSync(join(submitDir, 'plan.yml')).size / 1e6;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const modes = [
  { name: 'lines', args: ['--child', 'lines'] },
  { name: 'engine', args: ['--child', 'engine'] },
  { name: 'monitor', args: ['--child', 'monitor'] },
];
if (values.before) {
  modes.push({ name: 'engine (before)', args: ['--child', 'engine', '--root', values.before] });
  modes.push({ name: 'monitor (before)', args: ['--child', 'monitor', '--root', values.before] });
}
const results = Object.fromEntries(modes.map((m) => [m.name, []]));
for (let r = 0; r < Number(values.runs); r++) {
  for (const m of modes) {
    const p = spawnSync(
      process.execPath,
      [new URL(import.meta.url).pathname, ...m.args, '--plan', submitDir],
      {
        encoding: 'utf8',
      },
    );
    if (p.status !== 0) throw new Error(`${m.name}: ${p.stderr}`);
    results[m.name].push(JSON.parse(p.stdout));
    console.error(`[bench] ${m.name}: ${p.stdout.trim()}`);
  }
}
const base = median(results.lines.map((x) => x.s));
const baseCpu = median(results.lines.map((x) => x.cpu));
console.log(
  `plan.yml: ${mb.toFixed(0)} MB, ${results.engine[0].jobs} jobs, ${results.engine[0].edges} edges\n`,
);
console.log('| reader | wall s (median) | vs line split | CPU s (median) | vs line split | peak RSS MB |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const m of modes) {
  const s = median(results[m.name].map((x) => x.s));
  const cpu = median(results[m.name].map((x) => x.cpu));
  const rss = median(results[m.name].map((x) => x.rssMb));
  console.log(
    `| ${m.name} | ${s.toFixed(2)} | ${(s / base).toFixed(2)}x | ${cpu.toFixed(2)} | ${(cpu / baseCpu).toFixed(2)}x | ${rss.toFixed(0)} |`,
  );
}
if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
else console.error(`[bench] kept ${dir}`);
