#!/usr/bin/env node
// Planning scale, Monte-Carlo (KOTO: N independent jobs sharing two inputs, plus a merge) and
// layered (fan-out/fan-in) abstract workflows, horizontal clustering into clusters of
// --cluster-size. Two modes:
//   --mode files (default): bench/gen-workflow.mjs writes workflow.yml and its catalogs (streaming),
//     then the real CLI plans them in a child process:
//     `/usr/bin/time -f %M pegasus-ts plan -v -f --cluster horizontal -D pegasus.clusters.size=N`;
//     prints load (reading the YAML files), plan, emit, wall time and peak RSS of that process.
//   --mode memory: builds the workflow in memory and runs the pipeline (no YAML reading).
// Each size runs in its own process so RSS is per plan.
//   node bench/plan-bench.mjs [--jobs 100000,1000000] [--shape koto,layered] [--cluster-size 1000]
//        [--cleanup inplace] [--mode files|memory] [--heap-mb N] [--node-args='...'] (default: Node's own heap settings) [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000,1000000' },
    shape: { type: 'string', default: 'koto,layered' },
    'cluster-size': { type: 'string', default: '1000' },
    cleanup: { type: 'string', default: 'inplace' },
    child: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'files' },
    'heap-mb': { type: 'string', default: '' },
    'node-args': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
  },
});

if (values.child) {
  const { Properties, ReplicaIndex, fileUse } = await import(
    new URL('../packages/model/dist/index.js', import.meta.url).href
  );
  const { runPipeline, writeSubmitDir, withLocalSite } = await import(
    new URL('../packages/planner/dist/index.js', import.meta.url).href
  );
  const n = Number(values.jobs);
  const shape = values.shape;
  const size = Number(values['cluster-size']);
  const out = mkdtempSync(join(tmpdir(), 'plan-bench-'));
  const t0 = performance.now();
  const jobs = [];
  const deps = [];
  const prof = { pegasus: { 'clusters.size': size } };
  if (shape === 'koto') {
    for (let i = 0; i < n; i++) {
      jobs.push({
        type: 'job',
        id: `sim_${i}`,
        name: 'sim',
        namespace: 'koto',
        arguments: ['--seed', i, '-o', `sim-${i}.root`],
        uses: [
          fileUse('geometry', 'input'),
          fileUse('beam', 'input'),
          fileUse(`sim-${i}.root`, 'output', { stageOut: false }),
        ],
        profiles: prof,
      });
    }
    jobs.push({
      type: 'job',
      id: 'merge',
      name: 'merge',
      namespace: 'koto',
      arguments: [],
      uses: [fileUse('merged', 'output')],
      profiles: {},
    });
    deps.push({ id: 'sim_0', children: ['merge'] });
    for (let i = 1; i < n; i++) deps.push({ id: `sim_${i}`, children: ['merge'] });
  } else {
    // layered: split -> n-2 workers in 2 layers (fan-out, then pairwise) -> join
    const half = Math.floor((n - 2) / 2);
    jobs.push({
      type: 'job',
      id: 'split',
      name: 'split',
      arguments: [],
      uses: [fileUse('geometry', 'input')],
      profiles: {},
    });
    for (let i = 0; i < half; i++)
      jobs.push({
        type: 'job',
        id: `l1_${i}`,
        name: 'step1',
        arguments: [String(i)],
        uses: [],
        profiles: prof,
      });
    for (let i = 0; i < half; i++)
      jobs.push({
        type: 'job',
        id: `l2_${i}`,
        name: 'step2',
        arguments: [String(i)],
        uses: [],
        profiles: prof,
      });
    jobs.push({
      type: 'job',
      id: 'join',
      name: 'join',
      arguments: [],
      uses: [fileUse('result', 'output')],
      profiles: {},
    });
    deps.push({ id: 'split', children: Array.from({ length: half }, (_, i) => `l1_${i}`) });
    for (let i = 0; i < half; i++) deps.push({ id: `l1_${i}`, children: [`l2_${i}`] });
    for (let i = 0; i < half; i++) deps.push({ id: `l2_${i}`, children: ['join'] });
  }
  const wf = { pegasus: '5.0', name: `bench-${shape}`, jobs, dependencies: deps, profiles: {} };
  const tr = (name) => ({
    namespace: shape === 'koto' ? 'koto' : undefined,
    name,
    sites: [{ name: 'hpc', pfn: `/bin/${name}`, type: 'installed', profiles: {} }],
    requires: [],
    profiles: {},
  });
  const tc = { transformations: ['sim', 'merge', 'split', 'step1', 'step2', 'join'].map(tr), containers: [] };
  const dirOf = (p) => [
    {
      type: 'sharedScratch',
      path: p,
      sharedFileSystem: true,
      fileServers: [{ url: `file://${p}`, operation: 'all', profiles: {} }],
    },
  ];
  const sc = withLocalSite(
    {
      sites: [
        {
          name: 'hpc',
          directories: dirOf(`${out}/scratch`),
          grids: [{ type: 'batch', contact: 'x', scheduler: 'slurm' }],
          profiles: { pegasus: { 'data.configuration': 'sharedfs' } },
        },
      ],
    },
    out,
  );
  const rc = {
    replicas: ['geometry', 'beam'].map((lfn) => ({
      lfn,
      pfns: [{ site: 'local', pfn: `file:///data/${lfn}` }],
      regex: false,
    })),
  };
  const properties = new Properties();
  const ctx = {
    label: wf.name,
    relativeDir: 'run0001',
    siteCatalog: sc,
    transformationCatalogs: [tc],
    replicas: new ReplicaIndex([rc]),
    properties,
    executionSites: ['hpc'],
    stagingSites: new Map(),
    outputSites: [],
    defaultRetries: 1,
  };
  const tBuild = performance.now() - t0;
  const timings = {};
  const t1 = performance.now();
  const ex = runPipeline(
    { workflow: wf, ctx, cleanup: values.cleanup, cluster: ['horizontal'], force: true, selector: 'random' },
    timings,
  );
  const tPlan = performance.now() - t1;
  const t2 = performance.now();
  const w = await writeSubmitDir(ex, {
    submitDir: join(out, 'submit'),
    relativeDir: 'run0001',
    label: wf.name,
    workflowFile: '(in memory)',
    workflowVersion: '5.0',
    baseDir: out,
    user: 'bench',
    properties,
    siteCatalog: sc,
  });
  const tEmit = performance.now() - t2;
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      shape,
      jobs: n,
      clusterSize: size,
      cleanup: values.cleanup,
      execJobs: ex.jobs.length,
      edges: ex.edgeFrom.length,
      clusters: w.clusters,
      tasks: w.tasks,
      buildMs: Math.round(tBuild),
      planMs: Math.round(tPlan),
      emitMs: Math.round(tEmit),
      totalMs: Math.round(tPlan + tEmit),
      peakRssMB: Math.round(rss),
      phases: timings,
    }),
  );
  if (!values.keep) rmSync(out, { recursive: true, force: true });
  process.exit(0);
}

if (values.mode === 'files') {
  const ROOT = new URL('..', import.meta.url).pathname;
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const rows = [];
  for (const shape of values.shape.split(',')) {
    for (const n of values.jobs.split(',').map(Number)) {
      const dir = mkdtempSync(join(tmpdir(), `plan-bench-${shape}-`));
      const gen = JSON.parse(
        execFileSync(
          process.execPath,
          [join(ROOT, 'bench/gen-workflow.mjs'), '--jobs', String(n), '--shape', shape, '--out', dir],
          { encoding: 'utf8' },
        ),
      );
      const cli = [
        ...(values['heap-mb'] ? [`--max-old-space-size=${values['heap-mb']}`] : []),
        ...values['node-args'].split(' ').filter(Boolean),
        join(ROOT, 'packages/cli/bin/pegasus-ts.js'),
        'plan',
        '-v',
        '-f',
        '--dir',
        join(dir, 'submit'),
        '--cluster',
        'horizontal',
        '--cleanup',
        values.cleanup,
        '-D',
        `pegasus.clusters.size=${values['cluster-size']}`,
        'workflow.yml',
      ];
      const cmd = timeBin ? [timeBin, ['-f', '%M', process.execPath, ...cli]] : [process.execPath, cli];
      const t0 = performance.now();
      const r = spawnSync(cmd[0], cmd[1], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
      const wallMs = performance.now() - t0;
      const errLines = r.stderr.trim().split('\n');
      if (r.status !== 0) {
        process.stderr.write(r.stderr);
        throw new Error(`pegasus-ts plan exited with ${r.status} for ${shape} ${n}`);
      }
      const timings = Object.fromEntries(
        [...(errLines.find((l) => l.startsWith('timings: ')) ?? '').matchAll(/(\w+) (\d+) ms/g)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
      const planned = /planned (\d+) jobs \((\d+) clustered jobs holding (\d+) tasks\), (\d+) edges/.exec(
        r.stdout,
      );
      const load = timings.load ?? 0;
      const emit = timings.emit ?? 0;
      const plan = Object.entries(timings)
        .filter(([k]) => k !== 'load' && k !== 'emit')
        .reduce((a, [, v]) => a + v, 0);
      const row = {
        mode: 'files',
        shape,
        jobs: n,
        clusterSize: Number(values['cluster-size']),
        workflowMB: Math.round(statSync(join(dir, 'workflow.yml')).size / 2 ** 20),
        genMs: gen.ms,
        execJobs: Number(planned?.[1]),
        clusters: Number(planned?.[2]),
        tasks: Number(planned?.[3]),
        edges: Number(planned?.[4]),
        loadMs: load,
        planMs: plan,
        emitMs: emit,
        wallMs: Math.round(wallMs),
        peakRssMB: timeBin ? Math.round(Number(errLines.at(-1)) / 1024) : undefined,
        phases: timings,
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
      if (values.keep) process.stderr.write(`kept ${dir}\n`);
      else rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(
    '| shape | jobs | workflow.yml MB | executable jobs | clusters | load s | plan s | emit s | wall s | peak RSS MB |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const sec = (ms) => (ms / 1000).toFixed(2);
  for (const r of rows) {
    console.log(
      `| ${r.shape} | ${r.jobs} | ${r.workflowMB} | ${r.execJobs} | ${r.clusters} | ${sec(r.loadMs)} | ${sec(r.planMs)} | ${sec(r.emitMs)} | ${sec(r.wallMs)} | ${r.peakRssMB ?? '-'} |`,
    );
  }
  process.exit(0);
}

const rows = [];
for (const shape of values.shape.split(',')) {
  for (const n of values.jobs.split(',').map(Number)) {
    const outp = execFileSync(
      process.execPath,
      [
        '--max-old-space-size=4096',
        new URL(import.meta.url).pathname,
        '--child',
        '--jobs',
        String(n),
        '--shape',
        shape,
        '--cluster-size',
        values['cluster-size'],
        '--cleanup',
        values.cleanup,
      ],
      { encoding: 'utf8' },
    );
    const row = JSON.parse(outp.trim().split('\n').pop());
    rows.push(row);
    process.stderr.write(`${outp}`);
  }
}
console.log('| shape | jobs | executable jobs | clusters | plan s | emit s | total s | peak RSS MB |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.shape} | ${r.jobs} | ${r.execJobs} | ${r.clusters} | ${(r.planMs / 1000).toFixed(2)} | ${(r.emitMs / 1000).toFixed(2)} | ${(r.totalMs / 1000).toFixed(2)} | ${r.peakRssMB} |`,
  );
}
