#!/usr/bin/env node
// Monitor scale: synthesizes a 1,000,000-task submit dir (plan.yml with --clusters clustered jobs
// of --tasks / --clusters tasks each, their PMC .dag files, one kickstart record per task in
// clusters/JOB.dag.invocations.yml in the runner's layout (0.1% failed, with output tails),
// the runner's own record per job in invocations/, and jobstate.log with one retried job),
// then times, each in its own process: the ingest into workflow.db (records/s; meanwhile
// another process queries the database every 100 ms and the slowest answer is reported),
// `status -l`, `analyzer` and `statistics -s all` (each starting with its one-pass ingest),
// plus their peak RSS. Baseline in the same run: the `yaml` package parsing 10,000 of the
// same records. Needs `pnpm exec tsc -b`.
//   node bench/monitor-bench.mjs [--tasks 1000000] [--clusters 1000] [--dir DIR] [--keep] [--reuse]
// --reuse: with --dir, keep a submit dir synthesized before (same --tasks/--clusters) and only
// delete its workflow.db.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000000' },
    clusters: { type: 'string', default: '1000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    child: { type: 'string' },
    sub: { type: 'string' },
  },
});
const mon = () => import(new URL('../packages/monitor/dist/index.js', import.meta.url).href);

// --- children: one measured step each, JSON on stdout ------------------------------------------
if (values.child) {
  const dir = values.sub;
  const m = await mon();
  const t0 = performance.now();
  const out = {};
  if (values.child === 'ingest') {
    Object.assign(out, await m.ingest(dir));
  } else if (values.child === 'reader') {
    // what status asks, every 100 ms until the ingest is done: slowest answer
    const { default: Database } = await import(
      new URL('../packages/monitor/node_modules/better-sqlite3/lib/index.js', import.meta.url).href
    );
    let worst = 0;
    let queries = 0;
    let db = null;
    for (;;) {
      try {
        db ??= new Database(join(dir, 'workflow.db'), { readonly: true, fileMustExist: true });
        const q0 = performance.now();
        const r = db.prepare('SELECT coalesce(max(invocation_id), 0) AS n FROM invocation').get();
        const s = db.prepare('SELECT state, count(*) FROM job GROUP BY 1').all();
        worst = Math.max(worst, performance.now() - q0);
        queries++;
        if (r.n >= Number(values.tasks) + Number(values.clusters) && s.length > 0) break;
        if (performance.now() > 600_000) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    out.queries = queries;
    out.worstQueryMs = worst;
  } else {
    const { db } = await m.openMonitor(dir);
    if (values.child === 'status')
      out.text = m.formatStatus(m.queryStatus(db, dir, { long: true, limit: 50 }));
    if (values.child === 'analyzer') out.text = m.formatAnalyzer(m.analyze(db, dir));
    if (values.child === 'statistics') out.text = m.writeStatistics(db, dir, { level: 'all' }).text;
    db.close();
  }
  out.seconds = (performance.now() - t0) / 1000;
  out.maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

function runChild(step, dir, extra = []) {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [new URL(import.meta.url).pathname, '--child', step, '--sub', dir, ...extra],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${step} exited ${code}`)),
    );
  });
}

// --- synthesize the submit dir -----------------------------------------------------------------
const N = Number(values.tasks);
const C = Number(values.clusters);
if (!Number.isInteger(N) || !Number.isInteger(C) || C < 1 || N < C) {
  console.error('monitor-bench: --tasks and --clusters must be integers, tasks >= clusters >= 1');
  process.exit(2);
}
const per = Math.ceil(N / C);
const root = values.dir ?? mkdtempSync(join(tmpdir(), 'monitor-bench-'));
const sub = join(root, 'run0001');
const reuse = values.reuse && values.dir !== undefined && existsSync(join(sub, 'plan.yml'));
const { formatRecordYaml } = await import(
  new URL('../packages/kickstart/dist/index.js', import.meta.url).href
);
class Sink {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.parts = [];
    this.n = 0;
  }
  write(s) {
    this.parts.push(s);
    this.n += s.length;
    if (this.n > 4 << 20) this.flush();
  }
  flush() {
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.n = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
  }
}

const usage = {
  utime: 0.512,
  stime: 0.021,
  maxrss: 20480,
  minflt: 900,
  majflt: 0,
  nswap: 0,
  inblock: 0,
  outblock: 16,
  msgsnd: 0,
  msgrcv: 0,
  nsignals: 0,
  nvcsw: 3,
  nivcsw: 12,
};
function record(deriv, startMs, dur, failed) {
  return formatRecordYaml({
    version: '3.0',
    start: startMs,
    duration: dur,
    derivation: deriv,
    resource: 'node01',
    interface: 'eth0',
    hostaddr: '10.0.0.17',
    hostname: `node${String(1 + (Number(deriv) % 16)).padStart(2, '0')}`,
    pid: 4242,
    uid: 1000,
    user: 'alice',
    gid: 1000,
    group: 'alice',
    umask: 0o022,
    mainjob: {
      start: startMs,
      duration: dur,
      pid: 4243,
      usage,
      status: failed ? { raw: 256, regular_exitcode: 1 } : { raw: 0, regular_exitcode: 0 },
      executable: { file_name: '/opt/koto/bin/koto-sim' },
      argument_vector: ['--seed', String(deriv), '--events', '10000', '-o', `sim-${deriv}.root`],
    },
    cwd: '/scratch/alice/run0001',
    usage,
    files: [
      ['stdin', { file_name: '/dev/null' }],
      [
        'stdout',
        {
          descriptor: 1,
          size: failed ? 12 : 0,
          data_truncated: false,
          ...(failed ? { data: 'simulating\n' } : {}),
        },
      ],
      [
        'stderr',
        {
          descriptor: 2,
          size: failed ? 30 : 0,
          data_truncated: false,
          ...(failed ? { data: 'koto-sim: detector not found\n' } : {}),
        },
      ],
    ],
  });
}

let recBytes = 0;
if (reuse) {
  for (const f of ['workflow.db', 'workflow.db-wal', 'workflow.db-shm'])
    rmSync(join(sub, f), { force: true });
  for (const f of readdirSync(join(sub, 'clusters')))
    if (f.endsWith('.invocations.yml')) recBytes += statSync(join(sub, 'clusters', f)).size;
  console.error(`reusing ${sub}`);
} else synthesize();

function synthesize() {
  rmSync(sub, { recursive: true, force: true });
  mkdirSync(join(sub, 'clusters'), { recursive: true });
  mkdirSync(join(sub, 'invocations'), { recursive: true });

  const tg0 = performance.now();
  const T0 = Math.floor(Date.now() / 1000) - 7200;
  const plan = new Sink(join(sub, 'plan.yml'));
  plan.write(
    `# PEGASUS-TS EXECUTABLE WORKFLOW\nplan: "1.0"\nlabel: koto-bench\nwf_uuid: "00000000-0000-4000-8000-000000000001"\nworkflow: /dev/null\nsubmitDir: ${sub}\nrelativeDir: run0001\ntimestamp: "20260101T000000+0000"\njobCount: ${C}\nedgeCount: 0\njobs:\n`,
  );
  const js = new Sink(join(sub, 'jobstate.log'));
  js.write(`${T0} INTERNAL *** DAGMAN_STARTED 1 ***\n`);
  let k = 0;
  for (let c = 0; c < C; c++) {
    const name = `merge_koto-sim_PID1_ID${c + 1}`;
    const n = Math.min(per, N - k);
    plan.write(
      `  - name: ${name}\n    kind: cluster\n    site: slurm\n    transformation: "pegasus::mpiexec"\n    command: [pegasus-ts, mpi-cluster, clusters/${name}.dag]\n    retries: ${c === C - 1 ? 0 : 2}\n    priority: 20\n    clustering: horizontal\n    dag: clusters/${name}.dag\n`,
    );
    const dag = new Sink(join(sub, `clusters/${name}.dag`));
    const inv = new Sink(join(sub, `clusters/${name}.dag.invocations.yml`));
    const t = T0 + c * 6;
    const retried = c === 1;
    const last = c === C - 1;
    for (let i = 1; i <= n; i++, k++) {
      dag.write(
        `#@ ${i} koto::koto-sim:1.0 sim_${k}\nTASK sim_${k} -t 1 /opt/koto/bin/koto-sim --seed ${k} --events 10000 -o sim-${k}.root\n`,
      );
      const failed = k % 1000 === 999 && !retried;
      let r = record(String(i), (t + 1) * 1000 + i, 0.5 + (k % 7) / 10, failed);
      if (failed && !last) r += record(String(i), (t + 2) * 1000 + i, 0.5, false);
      recBytes += r.length;
      inv.write(r);
    }
    dag.close();
    inv.close();
    const attempts = retried ? 2 : 1;
    for (let a = 1; a <= attempts; a++) {
      const ta = t + (a - 1) * 3;
      const ok = a === attempts && !last;
      js.write(
        `${ta} ${name} SUBMIT - slurm - ${a}\n${ta} ${name} GRID_SUBMIT ${1000 + c} slurm - ${a}\n${ta + 1} ${name} EXECUTE ${1000 + c} slurm - ${a}\n`,
      );
      js.write(
        `${ta + 3} ${name} JOB_TERMINATED ${1000 + c} slurm - ${a}\n${ta + 3} ${name} ${ok ? 'JOB_SUCCESS 0' : 'JOB_FAILURE 1'} slurm 2.000 ${a}\n`,
      );
      js.write(
        `${ta + 3} ${name} POST_SCRIPT_STARTED - slurm - ${a}\n${ta + 3} ${name} POST_SCRIPT_TERMINATED 0 slurm - ${a}\n${ta + 3} ${name} ${ok ? 'POST_SCRIPT_SUCCESS 0' : 'POST_SCRIPT_FAILURE 1'} slurm - ${a}\n`,
      );
      const own = new Sink(join(sub, `invocations/${name}.${String(a - 1).padStart(3, '0')}.yml`));
      own.write(
        record(name, (ta + 1) * 1000, 2, !ok).replace(
          'derivation: "' + name,
          'transformation: "pegasus::mpiexec"\n  derivation: "' + name,
        ),
      );
      own.close();
    }
  }
  js.write(`${T0 + C * 6 + 10} INTERNAL *** DAGMAN_FINISHED 1 ***\n`);
  plan.write('edges: []\n');
  plan.close();
  js.close();
  const genSeconds = (performance.now() - tg0) / 1000;
  console.error(
    `synthesized ${N} task records (${(recBytes / 1e9).toFixed(2)} GB) in ${C} clustered jobs in ${genSeconds.toFixed(1)} s: ${sub}`,
  );
}

// --- baseline: the yaml package on 10,000 of the same records ----------------------------------
const { parse } = await import(
  new URL('../packages/monitor/node_modules/yaml/dist/index.js', import.meta.url).href
);
let sample = '';
for (let i = 1; i <= 10000; i++) sample += record(String(i), Date.now(), 0.5, false);
const yb0 = performance.now();
const parsed = parse(sample);
const yamlRate = parsed.length / ((performance.now() - yb0) / 1000);
const m = await mon();
const fb0 = performance.now();
const fast = m.parseInvocationText(sample, true).records.length;
const fastRate = fast / ((performance.now() - fb0) / 1000);

// --- measured steps ----------------------------------------------------------------------------
const reader = runChild('reader', sub, ['--tasks', String(N), '--clusters', String(C)]);
const ing = await runChild('ingest', sub);
const rd = await reader;
const st = await runChild('status', sub);
const an = await runChild('analyzer', sub);
const ss = await runChild('statistics', sub);
const dbSize = statSync(join(sub, 'workflow.db')).size;
const rows = [
  [
    'ingest (records + jobstate)',
    `${ing.seconds.toFixed(1)} s`,
    `${Math.round(ing.records / ing.seconds).toLocaleString('en-US')} records/s`,
    `${ing.maxRssMB.toFixed(0)} MB`,
  ],
  [
    '  concurrent reader',
    `${rd.queries} queries`,
    `slowest ${rd.worstQueryMs.toFixed(0)} ms`,
    `${rd.maxRssMB.toFixed(0)} MB`,
  ],
  ['status -l', `${st.seconds.toFixed(2)} s`, '', `${st.maxRssMB.toFixed(0)} MB`],
  ['analyzer', `${an.seconds.toFixed(2)} s`, '', `${an.maxRssMB.toFixed(0)} MB`],
  ['statistics -s all', `${ss.seconds.toFixed(2)} s`, '', `${ss.maxRssMB.toFixed(0)} MB`],
  ['parser alone, 10,000 records', '', `${Math.round(fastRate).toLocaleString('en-US')} records/s`, ''],
  [
    'yaml package, same records (baseline)',
    '',
    `${Math.round(yamlRate).toLocaleString('en-US')} records/s (${(fastRate / yamlRate).toFixed(0)}x slower)`,
    '',
  ],
];
console.log(
  `\n${N.toLocaleString('en-US')} tasks in ${C} clustered jobs; records ${(recBytes / 1e9).toFixed(2)} GB; workflow.db ${(dbSize / 1e6).toFixed(0)} MB; ingest stored ${ing.records} records, ${ing.jobstateLines} jobstate lines\n`,
);
console.log('| step | time | rate | peak RSS |\n| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nstatus:\n${st.text}`);
console.log(`analyzer (first 40 lines):\n${an.text.split('\n').slice(0, 40).join('\n')}\n`);
console.log(`statistics:\n${ss.text}`);
if (!values.keep && !values.dir) rmSync(root, { recursive: true, force: true });
