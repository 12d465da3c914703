#!/usr/bin/env node
// Pegasus-TS benchmarks: each section runs its baselines in the same run and prints ratios.
// Progress goes to stderr, the final markdown table to stdout, and every result is appended as a
// JSON line to bench/results/. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeArgList, writeDag } from './lib/gen-dag.mjs';
import { GNU_TIME, median, runCommand } from './lib/measure.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'packages/cli/bin/pegasus-ts.js');
const SECTIONS = ['throughput', 'efficiency', 'master', 'scale'];
/** How the MPI transport runs: one job, no CPU binding (tasks inherit a rank's binding). */
const MPIRUN = ['mpirun', '--allow-run-as-root', '--oversubscribe', '--bind-to', 'none'];
const MPI_ADDON = join(ROOT, 'native/mpi/build/Release/mpi_transport.node');

const USAGE = `usage: pnpm bench [options]   (or: node bench/run.mjs [options])

  --only LIST           sections to run, comma separated: ${SECTIONS.join(',')} (default: all)
  --tasks N             tasks in the throughput DAG (default 20000)
  --runs N              runs per command; the median is reported (default 3)
  --workers N           cluster workers (default 2; the baselines use the same parallelism)
  --sleep-tasks N       'sleep 0.01' tasks in the efficiency section (default 2000)
  --sleep-seconds S     length of each efficiency task (default 0.01)
  --master-tasks LIST   DAG sizes for the master-cost section (default 20000,200000)
  --scale-tasks N       DAG size for the scale section (default 1000000)
  --scale-runs N        runs per scale DAG (default 1)
  --parallel-tasks N    tasks given to GNU parallel (default: --tasks; it is slow)
  --no-parallel         skip the GNU parallel baseline
  --no-mpi              skip the MPI transport rows (skipped anyway without mpirun or native/mpi)
  --cluster-arg=ARG     extra argument for every 'pegasus-ts mpi-cluster' run (repeatable)
  --keep                keep the generated DAGs (printed at the end)
  -h, --help            this text
`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      tasks: { type: 'string', default: '20000' },
      runs: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      'sleep-tasks': { type: 'string', default: '2000' },
      'sleep-seconds': { type: 'string', default: '0.01' },
      'master-tasks': { type: 'string', default: '20000,200000' },
      'scale-tasks': { type: 'string', default: '1000000' },
      'scale-runs': { type: 'string', default: '1' },
      'parallel-tasks': { type: 'string' },
      'no-parallel': { type: 'boolean', default: false },
      'no-mpi': { type: 'boolean', default: false },
      'cluster-arg': { type: 'string', multiple: true, default: [] },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  const int = (name, min = 1) => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min)
      throw new Error(`--${name} must be an integer >= ${min}, got '${values[name]}'`);
    return v;
  };
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : SECTIONS;
  for (const s of only)
    if (!SECTIONS.includes(s))
      throw new Error(`--only: unknown section '${s}' (have ${SECTIONS.join(', ')})`);
  const sleepSeconds = Number(values['sleep-seconds']);
  if (!(sleepSeconds > 0)) throw new Error(`--sleep-seconds must be > 0`);
  const masterTasks = values['master-tasks'].split(',').map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--master-tasks: bad size '${s}'`);
    return v;
  });
  return {
    help: values.help,
    only,
    tasks: int('tasks'),
    runs: int('runs'),
    workers: int('workers'),
    sleepTasks: int('sleep-tasks'),
    sleepSeconds,
    masterTasks,
    scaleTasks: int('scale-tasks'),
    scaleRuns: int('scale-runs'),
    parallelTasks: values['parallel-tasks'] ? int('parallel-tasks') : int('tasks'),
    parallel: !values['no-parallel'] && hasCommand('parallel'),
    mpi: values['no-mpi'] ? 'skipped (--no-mpi)' : mpiUnavailable(),
    clusterArgs: values['cluster-arg'],
    keep: values.keep,
  };
}

function hasCommand(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the MPI rows cannot run, or null when they can. */
function mpiUnavailable() {
  if (!hasCommand('mpirun')) return 'skipped: no mpirun';
  if (!existsSync(MPI_ADDON)) return 'skipped: native/mpi is not built (no MPI compiler at setup?)';
  return null;
}

const dagTasks = new Map();
const expectTasks = (dag) => dagTasks.get(dag);

function countDone(path) {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'latin1');
  let n = 0;
  for (let i = text.indexOf('DONE '); i !== -1; i = text.indexOf('DONE ', i + 5)) {
    if (i === 0 || text.charCodeAt(i - 1) === 10) n++;
  }
  return n;
}

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const fmt = (x, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

class Bench {
  constructor(opts) {
    this.opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), 'pegasus-ts-bench-'));
    this.rows = [];
    this.results = [];
    this.dags = new Map();
  }

  /** The DAG file for (tasks, shape, command), generated once per run of the harness. */
  async dag(tasks, shape, command) {
    const key = `${tasks}-${shape}-${command}`;
    let path = this.dags.get(key);
    if (!path) {
      path = join(this.dir, `${shape}-${tasks}-${this.dags.size}.dag`);
      log(`writing ${path} (${tasks} tasks, ${shape}, '${command}')`);
      const { tasks: written } = await writeDag(path, { tasks, shape, command });
      dagTasks.set(path, written);
      this.dags.set(key, path);
    }
    return path;
  }

  async argList(count, arg) {
    const path = join(this.dir, `args-${count}-${arg}`);
    if (!existsSync(path)) await writeArgList(path, count, arg);
    return path;
  }

  /**
   * `pegasus-ts mpi-cluster` on the DAG with a fresh rescue log; transport 'zmq' (the master
   * spawns --workers local workers) or 'mpi' (mpirun -np workers+1: rank 0 master, the rest
   * workers).
   */
  async cluster(dag, extra = [], runOpts = {}, transport = 'zmq') {
    const rescue = `${dag}.bench-rescue`;
    rmSync(rescue, { force: true });
    const launch =
      transport === 'mpi'
        ? [...MPIRUN, '-np', String(this.opts.workers + 1), process.execPath, CLI, 'mpi-cluster']
        : [process.execPath, CLI, 'mpi-cluster', '--workers', String(this.opts.workers)];
    const argv = [
      ...launch,
      '--transport',
      transport,
      '-o',
      '/dev/null',
      '-e',
      '/dev/null',
      '--no-resource-log',
      '-r',
      rescue,
      ...extra,
      ...this.opts.clusterArgs,
      dag,
    ];
    const r = await runCommand(argv, runOpts);
    // A run counts only if the rescue log holds a DONE record for every task.
    const done = countDone(rescue);
    if (r.code === 0 && done !== expectTasks(dag)) {
      const msg = `rescue log has ${done} DONE records, expected ${expectTasks(dag)}`;
      if (extra.includes('--noop')) log(`    note: ${msg}`);
      else {
        r.code = -1;
        r.stderrTail += `\n${msg}`;
      }
    }
    rmSync(rescue, { force: true });
    return r;
  }

  /**
   * Runs each command `runs` times, round robin (a, b, c, a, b, c, ...) so that a change in the
   * machine's load hits every command alike. Returns per label the runs and the median wall time.
   */
  async compare(commands, runs = this.opts.runs) {
    const all = Object.fromEntries(Object.keys(commands).map((label) => [label, []]));
    for (let i = 0; i < runs; i++) {
      for (const [label, fn] of Object.entries(commands)) {
        const r = await fn();
        const ok = r.code === 0;
        log(
          `  ${label} run ${i + 1}/${runs}: ${fmt(r.wallSeconds, 3)} s${ok ? '' : ` FAILED (exit ${r.code ?? r.signal})`}`,
        );
        if (!ok && r.stderrTail)
          log(`    stderr tail: ${r.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
        all[label].push(r);
      }
    }
    const out = {};
    for (const [label, list] of Object.entries(all)) {
      const okRuns = list.filter((r) => r.code === 0);
      out[label] = {
        runs: list,
        ok: okRuns.length === list.length,
        wall: median(okRuns.map((r) => r.wallSeconds)),
      };
    }
    return out;
  }

  /** Runs one command `runs` times. */
  async repeat(label, fn, runs = this.opts.runs) {
    return (await this.compare({ [label]: fn }, runs))[label];
  }

  add(row) {
    this.rows.push(row);
    this.results.push(row);
  }
}

async function throughput(b) {
  const { tasks, workers, parallelTasks } = b.opts;
  log(`throughput: ${tasks} x /bin/true on ${workers} workers`);
  const dag = await b.dag(tasks, 'independent', '/bin/true');
  const args = await b.argList(Math.max(tasks, parallelTasks), 'x');
  const commands = {
    'pegasus-ts': () => b.cluster(dag),
    xargs: () => runCommand(['xargs', '-a', args, '-P', String(workers), '-n', '1', '/bin/true']),
  };
  if (b.opts.mpi === null) commands['pegasus-ts mpi'] = () => b.cluster(dag, [], {}, 'mpi');
  else log(`  MPI transport ${b.opts.mpi}`);
  if (b.opts.parallel) {
    const pargs = parallelTasks === tasks ? args : await b.argList(parallelTasks, 'x');
    commands.parallel = () => runCommand(['parallel', '-j', String(workers), '/bin/true', '::::', pargs]);
  }
  const {
    'pegasus-ts': pts,
    'pegasus-ts mpi': mpi = null,
    xargs,
    parallel: par = null,
  } = await b.compare(commands);
  const rate = (n, r) => (r.ok ? n / r.wall : Number.NaN);
  const xr = rate(tasks, xargs);
  const pr = rate(tasks, pts);
  if (mpi) {
    const mr = rate(tasks, mpi);
    // The master's makespan-based Throughput line leaves out start-up (mpirun, MPI_Init: about
    // 0.35 s more than spawning local ZeroMQ workers) and shut-down.
    const steady = (r) => median(r.runs.filter((x) => x.code === 0).map((x) => x.info.Throughput));
    b.add({
      section: 'throughput',
      name: `pegasus-ts mpi-cluster, MPI (mpirun -np ${workers + 1})`,
      tasks,
      value: mr,
      unit: 'tasks/s',
      baseline: `xargs -P ${workers}: ${fmt(xr)} tasks/s; ZeroMQ: ${fmt(pr)} tasks/s (${fmt(mr / pr, 2)}x); master's Throughput line: MPI ${fmt(steady(mpi))}, ZeroMQ ${fmt(steady(pts))} tasks/s`,
      ratio: mr / xr,
      target: '>= 1.1x xargs, >= ZeroMQ',
      pass: mr / xr >= 1.1 && mr >= pr,
      wall: mpi.wall,
      baselineWall: xargs.wall,
      zmqWall: pts.wall,
      steadyRate: steady(mpi),
      zmqSteadyRate: steady(pts),
    });
  } else {
    b.add({
      section: 'throughput',
      name: `pegasus-ts mpi-cluster, MPI: ${b.opts.mpi}`,
      tasks,
      value: Number.NaN,
      unit: '',
    });
  }
  b.add({
    section: 'throughput',
    name: `pegasus-ts mpi-cluster --workers ${workers} (ZeroMQ)`,
    tasks,
    value: pr,
    unit: 'tasks/s',
    baseline: `xargs -P ${workers}: ${fmt(xr)} tasks/s`,
    ratio: pr / xr,
    target: '>= 1.1x xargs',
    pass: pr / xr >= 1.1,
    wall: pts.wall,
    baselineWall: xargs.wall,
  });
  b.add({
    section: 'throughput',
    name: `xargs -P ${workers}`,
    tasks,
    value: xr,
    unit: 'tasks/s',
    ratio: 1,
    wall: xargs.wall,
  });
  if (par) {
    const parRate = rate(parallelTasks, par);
    b.add({
      section: 'throughput',
      name: `GNU parallel -j${workers}`,
      tasks: parallelTasks,
      value: parRate,
      unit: 'tasks/s',
      ratio: parRate / xr,
      wall: par.wall,
    });
  }
}

async function efficiency(b) {
  const { sleepTasks: n, sleepSeconds: s, workers } = b.opts;
  const ideal = (n * s) / workers;
  log(`efficiency: ${n} x sleep ${s} on ${workers} workers (ideal ${fmt(ideal, 2)} s)`);
  const dag = await b.dag(n, 'independent', `/bin/sleep ${s}`);
  const args = await b.argList(n, String(s));
  const commands = {
    'pegasus-ts': () => b.cluster(dag),
    xargs: () => runCommand(['xargs', '-a', args, '-P', String(workers), '-n', '1', '/bin/sleep']),
  };
  if (b.opts.mpi === null) commands['pegasus-ts mpi'] = () => b.cluster(dag, [], {}, 'mpi');
  else log(`  MPI transport ${b.opts.mpi}`);
  const { 'pegasus-ts': pts, 'pegasus-ts mpi': mpi = null, xargs } = await b.compare(commands);
  const eff = (r) => (r.ok ? (100 * ideal) / r.wall : Number.NaN);
  if (mpi) {
    b.add({
      section: 'efficiency',
      name: `pegasus-ts mpi-cluster, MPI (mpirun -np ${workers + 1})`,
      tasks: n,
      value: eff(mpi),
      unit: '% of ideal',
      baseline: `xargs -P ${workers}: ${fmt(eff(xargs), 1)} %; ZeroMQ: ${fmt(eff(pts), 1)} %`,
      ratio: eff(mpi) / eff(xargs),
      target: '>= 95 %',
      pass: eff(mpi) >= 95,
      wall: mpi.wall,
      ideal,
    });
  } else {
    b.add({
      section: 'efficiency',
      name: `pegasus-ts mpi-cluster, MPI: ${b.opts.mpi}`,
      tasks: n,
      value: Number.NaN,
      unit: '',
    });
  }
  b.add({
    section: 'efficiency',
    name: `pegasus-ts mpi-cluster --workers ${workers} (ZeroMQ)`,
    tasks: n,
    value: eff(pts),
    unit: '% of ideal',
    baseline: `xargs -P ${workers}: ${fmt(eff(xargs), 1)} %`,
    ratio: eff(pts) / eff(xargs),
    target: '>= 95 %',
    pass: eff(pts) >= 95,
    wall: pts.wall,
    ideal,
  });
  b.add({
    section: 'efficiency',
    name: `xargs -P ${workers}`,
    tasks: n,
    value: eff(xargs),
    unit: '% of ideal',
    wall: xargs.wall,
    ideal,
  });
}

async function master(b) {
  for (const n of b.opts.masterTasks) {
    log(`master cost: ${n} tasks with --noop`);
    const dag = await b.dag(n, 'independent', '/bin/true');
    const r = await b.repeat(`noop ${n}`, () => b.cluster(dag, ['--noop']));
    const reported = median(r.runs.filter((x) => x.code === 0).map((x) => x.info.Throughput));
    const whole = r.ok ? n / r.wall : Number.NaN;
    const value = Number.isFinite(reported) ? reported : whole;
    b.add({
      section: 'master',
      name: `--noop (master's Throughput line)`,
      tasks: n,
      value,
      unit: 'tasks/s',
      baseline: `whole command: ${fmt(whole)} tasks/s (${fmt(r.wall, 2)} s)`,
      target: '>= 100,000/s',
      pass: value >= 100_000,
      wall: r.wall,
      wholeRate: whole,
    });
  }
}

async function scale(b) {
  const n = b.opts.scaleTasks;
  for (const shape of ['independent', 'chains', 'mix']) {
    log(`scale: ${n} tasks, ${shape}, --noop`);
    const dag = await b.dag(n, shape, '/bin/true');
    const r = await b.repeat(
      `scale ${shape}`,
      () => b.cluster(dag, ['--noop'], { maxRss: true }),
      b.opts.scaleRuns,
    );
    const ok = r.runs.filter((x) => x.code === 0);
    const load = median(ok.map((x) => x.info['Load time']));
    const peak = median(ok.map((x) => x.info['Peak RSS']));
    const whole = median(ok.map((x) => x.maxRssMB ?? Number.NaN));
    const rss = Number.isFinite(whole) ? whole : peak;
    b.add({
      section: 'scale',
      name: `${shape}${shape === 'chains' ? ' of 10' : ''}: load time`,
      tasks: n,
      value: load,
      unit: 's',
      baseline: `wall ${fmt(r.wall, 2)} s`,
      wall: r.wall,
    });
    b.add({
      section: 'scale',
      name: `${shape}${shape === 'chains' ? ' of 10' : ''}: peak RSS`,
      tasks: n,
      value: rss,
      unit: 'MB',
      baseline: `master's line: ${fmt(peak)} MB${GNU_TIME ? `; /usr/bin/time max: ${fmt(whole)} MB` : ''}`,
      target: '< 1 GB',
      pass: rss < 1024,
      masterPeakRssMB: peak,
      commandMaxRssMB: whole,
    });
  }
}

function table(rows) {
  const head = ['section', 'benchmark', 'tasks', 'result', 'baseline (same run)', 'ratio', 'target', 'met'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const digits = r.unit === 's' ? 2 : r.unit === '% of ideal' ? 1 : 0;
    lines.push(
      `| ${[
        r.section,
        r.name,
        fmt(r.tasks),
        `${fmt(r.value, digits)} ${r.unit}`,
        r.baseline ?? '',
        r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}x`,
        r.target ?? '',
        r.pass === undefined ? '' : r.pass ? 'yes' : 'no',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2).filter((a) => a !== '--'));
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!existsSync(join(ROOT, 'packages/cli/dist/index.js'))) {
    process.stderr.write(
      'bench: packages are not built; run `bash scripts/build.sh` (or `npm run setup`) first\n',
    );
    return 2;
  }
  const b = new Bench(opts);
  const started = new Date();
  try {
    const sections = { throughput, efficiency, master, scale };
    for (const s of opts.only) await sections[s](b);
  } finally {
    if (opts.keep) log(`kept ${b.dir}`);
    else rmSync(b.dir, { recursive: true, force: true });
  }
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${started.toISOString().slice(0, 10)}.jsonl`);
  const meta = {
    time: started.toISOString(),
    host: hostname(),
    cpus: cpus().length,
    node: process.version,
    commit: gitCommit(),
    options: { ...opts, help: undefined },
  };
  for (const r of b.results) appendFileSync(file, `${JSON.stringify({ ...meta, ...r })}\n`);
  log(`results appended to ${file}`);
  process.stdout.write(`${table(b.rows)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
