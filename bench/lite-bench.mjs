#!/usr/bin/env node
// Per-task cost of running a task in a scratch dir of its own inside the cluster runner (issue 13,
// nonsharedfs): N tasks `cat in.dat > out.dat` through `pegasus-ts mpi-cluster`, once as plain
// tasks in one shared directory (the baseline: sharedfs) and once as `pegasus-ts lite` tasks (a
// fresh scratch dir per task, in.dat pulled from a staging dir, out.dat pushed back, the dir
// removed), in the same run, interleaved. Prints ms per task and the difference per task.
//   node bench/lite-bench.mjs [--tasks 500] [--runs 3] [--workers 2]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'packages/cli/bin/pegasus-ts.js');
const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
  },
});
const n = Number(values.tasks);
const runs = Number(values.runs);
const workers = values.workers;

const dir = mkdtempSync(path.join(os.tmpdir(), 'pegasus-ts-lite-bench-'));
const staging = path.join(dir, 'staging');
const shared = path.join(dir, 'shared');
const scratch = path.join(dir, 'scratch');
for (const d of [staging, shared, scratch]) mkdirSync(d);
writeFileSync(path.join(dir, 'task.sh'), '#!/bin/sh\ncat "$1" > "$2"\n', { mode: 0o755 });
const task = path.join(dir, 'task.sh');
const plain = [];
const lite = [];
for (let i = 0; i < n; i++) {
  writeFileSync(path.join(staging, `in-${i}.dat`), `input ${i}\n`);
  writeFileSync(path.join(shared, `in-${i}.dat`), `input ${i}\n`);
  plain.push(`TASK t${i} ${task} ${shared}/in-${i}.dat ${shared}/out-${i}.dat`);
  const spec = path.join(dir, `lite-${i}.json`);
  const url = (lfn) => [{ site_label: 'staging', url: `file://${staging}/${lfn}` }];
  writeFileSync(
    spec,
    JSON.stringify({
      job: `t${i}`,
      scratch,
      inputs: [{ lfn: 'in.dat', src_urls: url(`in-${i}.dat`) }],
      outputs: [{ lfn: 'out.dat', dest_urls: url(`out-${i}.dat`) }],
    }),
  );
  lite.push(`TASK t${i} pegasus-ts lite --spec ${spec} -- ${task} in.dat out.dat`);
}
writeFileSync(path.join(dir, 'plain.dag'), `${plain.join('\n')}\n`);
writeFileSync(path.join(dir, 'lite.dag'), `${lite.join('\n')}\n`);

function once(name) {
  const dag = path.join(dir, `${name}.dag`);
  rmSync(`${dag}.rescue`, { force: true });
  const t0 = process.hrtime.bigint();
  execFileSync(
    process.execPath,
    [
      BIN,
      'mpi-cluster',
      '--workers',
      workers,
      '-o',
      '/dev/null',
      '-e',
      '/dev/null',
      '--no-resource-log',
      dag,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const times = { plain: [], lite: [] };
for (let r = 0; r < runs; r++) {
  for (const name of ['plain', 'lite']) {
    const ms = once(name);
    times[name].push(ms);
    process.stderr.write(`run ${r + 1}/${runs} ${name}: ${(ms / 1000).toFixed(2)} s\n`);
  }
}
const p = median(times.plain);
const l = median(times.lite);
const perTask = (ms) => (ms * Number(workers)) / n;
console.log(
  `| tasks | workers | plain (shared dir) | lite (scratch dir per task) | ratio | extra per task |`,
);
console.log(`| --- | --- | --- | --- | --- | --- |`);
console.log(
  `| ${n} | ${workers} | ${(p / 1000).toFixed(2)} s (${perTask(p).toFixed(1)} ms/task) | ${(l / 1000).toFixed(2)} s (${perTask(l).toFixed(1)} ms/task) | ${(l / p).toFixed(2)}x | ${(perTask(l) - perTask(p)).toFixed(1)} ms |`,
);
rmSync(dir, { recursive: true, force: true });
