#!/usr/bin/env node
// Service scale: the REST API on a 1,000,000-task provenance DB (the submit dir bench/monitor-bench.mjs
// synthesizes and ingests). Starts `pegasus-ts service --port 0` on it (its own PEGASUS_TS_HOME),
// then times from this process, one request at a time: pages of the job list, the grouped Gantt
// chart (the whole run in 100 bars), pages of Gantt bars, tasks and invocations at random offsets;
// p50/p95 per endpoint, beside the same query called in-process through @pegasus-ts/monitor
// (baseline: what HTTP, JSON and the server add), and the server's peak RSS (VmHWM).
// Targets (issue 11): p95 < 200 ms, RSS < 500 MB. Needs `pnpm exec tsc -b`.
//   node bench/service-bench.mjs [--dir DIR] [--tasks 1000000] [--clusters 1000] [--requests 200]
// Without --dir, runs bench/monitor-bench.mjs first (several minutes) into a temp dir.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'packages/cli/bin/pegasus-ts.js');
const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    tasks: { type: 'string', default: '1000000' },
    clusters: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '200' },
  },
});
const REQUESTS = Number(values.requests);

/** The submit dir (runNNNN with a workflow.db) under `dir`. */
function findSubmitDir(dir) {
  if (existsSync(join(dir, 'workflow.db'))) return dir;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const found = findSubmitDir(join(dir, e.name));
    if (found) return found;
  }
  return undefined;
}

let root = values.dir;
let made = false;
if (!root || !findSubmitDir(root)) {
  root ??= mkdtempSync(join(tmpdir(), 'service-bench-'));
  made = !values.dir;
  console.error(`service-bench: synthesizing the provenance DB with bench/monitor-bench.mjs in ${root}`);
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bench/monitor-bench.mjs'),
      '--tasks',
      values.tasks,
      '--clusters',
      values.clusters,
      '--dir',
      root,
      '--keep',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) throw new Error('bench/monitor-bench.mjs failed');
}
const submitDir = findSubmitDir(root);
if (!submitDir) throw new Error(`${root}: no workflow.db below it`);

const home = mkdtempSync(join(tmpdir(), 'service-bench-home-'));
const env = { ...process.env, PEGASUS_TS_HOME: home };
const { registerWorkflow } = await import(join(ROOT, 'packages/service/dist/workflow-registry.js'));
registerWorkflow(submitDir, { env });

const server = spawn(process.execPath, [CLI, 'service', '--port', '0'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)\//.exec(out);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`the service exited (${code})`)));
});

async function get(path) {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/workflows/1${path}`);
  const body = await res.json();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error}`);
  return { ms, body };
}

const first = await get('');
console.error(`first request (opens the DB, one ingest pass, workflow summary): ${first.ms.toFixed(0)} ms`);
const totals = {
  jobs: (await get('/jobs?max-results=1')).body.total,
  instances: (await get('/job-instances?max-results=1')).body.total,
  tasks: (await get('/tasks?max-results=1')).body.total,
  invocations: (await get('/invocations?max-results=1')).body.total,
};
console.error(`totals: ${JSON.stringify(totals)}`);

const m = await import(join(ROOT, 'packages/monitor/dist/index.js'));
const db = m.openDatabase(join(submitDir, 'workflow.db'), { readonly: true });
const rand = (n) => Math.floor(Math.random() * Math.max(1, n - 100));
const endpoints = [
  [
    'job list, a page of 100',
    () => `/jobs?start-index=${rand(totals.jobs)}&max-results=100&order=name`,
    (s) => m.listJobs(db, 'all', false, { start: s, max: 100, order: 'name' }),
    totals.jobs,
  ],
  [
    'failed jobs, first page',
    () => '/jobs?filter=failed&max-results=100',
    () => m.listJobs(db, 'failed', false, { max: 100 }),
    0,
  ],
  ['Gantt, whole run in 100 bars', () => '/gantt?groups=100', () => m.ganttBars(db, { groups: 100 }), 0],
  [
    'Gantt, a page of 100 attempts',
    () => `/gantt?start-index=${rand(totals.instances)}&max-results=100`,
    (s) => m.ganttBars(db, { start: s, max: 100 }),
    totals.instances,
  ],
  [
    'tasks, a page of 100',
    () => `/tasks?start-index=${rand(totals.tasks)}&max-results=100`,
    (s) => m.listTasks(db, undefined, { start: s, max: 100 }),
    totals.tasks,
  ],
  [
    'invocations, a page of 100',
    () => `/invocations?start-index=${rand(totals.invocations)}&max-results=100`,
    (s) => m.listInvocations(db, undefined, { start: s, max: 100 }),
    totals.invocations,
  ],
];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const rows = [];
for (const [name, path, direct, n] of endpoints) {
  const http = [];
  const local = [];
  for (let i = 0; i < REQUESTS; i++) {
    const p = path();
    const start = Number(/start-index=(\d+)/.exec(p)?.[1] ?? 0);
    http.push((await get(p)).ms);
    const t0 = performance.now();
    direct(start);
    local.push(performance.now() - t0);
  }
  rows.push([name, n, http[0], pct(http, 50), pct(http, 95), pct(local, 50), pct(local, 95)]);
  console.error(`${name}: p95 ${pct(http, 95).toFixed(1)} ms`);
}
db.close();
const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
const hwmMB = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
const rssMB = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
server.kill('SIGTERM');
await new Promise((r) => server.once('close', r));
rmSync(home, { recursive: true, force: true });
if (made) rmSync(root, { recursive: true, force: true });

const f = (x) => x.toFixed(1);
console.log(
  `\nREST API on ${totals.tasks.toLocaleString('en-US')} tasks, ${totals.jobs} jobs, ${totals.instances} job attempts, ${totals.invocations.toLocaleString('en-US')} invocations; ${REQUESTS} requests per row, one at a time\n`,
);
console.log(
  '| request | rows | first ms | p50 ms | p95 ms | in-process query p50 / p95 ms (baseline) | p95 ratio |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, n, h0, h50, h95, l50, l95] of rows) {
  console.log(
    `| ${name} | ${n || ''} | ${f(h0)} | ${f(h50)} | ${f(h95)} | ${f(l50)} / ${f(l95)} | ${(h95 / Math.max(l95, 0.01)).toFixed(1)}x |`,
  );
}
const worst = Math.max(...rows.map((r) => r[4]));
console.log(
  `\nserver peak RSS ${hwmMB.toFixed(0)} MB (now ${rssMB.toFixed(0)} MB); worst p95 ${f(worst)} ms; targets p95 < 200 ms: ${worst < 200 ? 'met' : 'NOT met'}, RSS < 500 MB: ${hwmMB < 500 ? 'met' : 'NOT met'}`,
);
