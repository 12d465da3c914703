#!/usr/bin/env node
// Writes a big abstract workflow (Pegasus 5.0 YAML, block style as our writer and Pegasus's Python
// API produce it) with its site, transformation and replica catalogs, streaming: a million jobs
// never exist in memory. Shapes:
//   koto:    N independent simulation jobs sharing two inputs (geometry, beam), each writing its own
//            output, all parents of one merge job (Monte-Carlo, like examples/koto)
//   layered: split -> (N-2)/2 step1 jobs -> (N-2)/2 step2 jobs (pairwise) -> join (fan-out/fan-in)
//   node bench/gen-workflow.mjs --jobs 1000000 --shape koto --out DIR
// Prints one JSON line: {shape, jobs, bytes, ms}.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** Buffered writer: strings are joined and written in ~1 MB blocks. */
class Out {
  constructor(path) {
    this.fd = openSync(path, 'w');
    this.parts = [];
    this.size = 0;
    this.bytes = 0;
  }
  add(s) {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) this.flush();
  }
  flush() {
    const b = Buffer.from(this.parts.join(''));
    writeSync(this.fd, b);
    this.bytes += b.length;
    this.parts = [];
    this.size = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
    return this.bytes;
  }
}

const job = (id, ns, name, args, uses) => {
  let s = `  - type: job\n    id: ${id}\n`;
  if (ns) s += `    namespace: ${ns}\n`;
  s += `    name: ${name}\n`;
  s +=
    args.length === 0
      ? '    arguments: []\n'
      : `    arguments:\n${args.map((a) => `      - ${a}\n`).join('')}`;
  if (uses.length === 0) return `${s}    uses: []\n`;
  s += '    uses:\n';
  for (const u of uses) {
    s += `      - lfn: ${u.lfn}\n        type: ${u.type}\n`;
    if (u.type === 'output')
      s += `        stageOut: ${u.stageOut ?? true}\n        registerReplica: ${u.registerReplica ?? true}\n`;
  }
  return s;
};

/** Writes DIR/workflow.yml, sites.yml, transformations.yml, replicas.yml; returns the workflow's size. */
export function generateWorkflow({ shape, jobs: n, out }) {
  if (!Number.isInteger(n) || n < 3) throw new Error(`--jobs ${n} (expected an integer >= 3)`);
  if (shape !== 'koto' && shape !== 'layered') throw new Error(`--shape ${shape} (expected koto or layered)`);
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  const w = new Out(join(dir, 'workflow.yml'));
  w.add(
    `x-pegasus:\n  apiLang: javascript\n  createdBy: bench/gen-workflow.mjs\npegasus: "5.0"\nname: bench-${shape}\njobs:\n`,
  );
  if (shape === 'koto') {
    const sims = n - 1;
    const geometry = { lfn: 'koto-geometry.gdml', type: 'input' };
    const beam = { lfn: 'beam-config.json', type: 'input' };
    for (let i = 0; i < sims; i++) {
      const o = `sim-${i}.root`;
      w.add(
        job(
          `sim_${i}`,
          'koto',
          'sim',
          ['--geometry', 'koto-geometry.gdml', '--seed', 1000 + i, '-o', o],
          [geometry, beam, { lfn: o, type: 'output', stageOut: false, registerReplica: false }],
        ),
      );
    }
    w.add(job('merge', 'koto', 'merge', ['-o', 'merged.root'], [{ lfn: 'merged.root', type: 'output' }]));
    w.add('jobDependencies:\n');
    for (let i = 0; i < sims; i++) w.add(`  - id: sim_${i}\n    children:\n      - merge\n`);
  } else {
    const half = Math.floor((n - 2) / 2);
    w.add(job('split', undefined, 'split', [], [{ lfn: 'koto-geometry.gdml', type: 'input' }]));
    for (let i = 0; i < half; i++) w.add(job(`l1_${i}`, undefined, 'step1', [`"${i}"`], []));
    for (let i = 0; i < half; i++) w.add(job(`l2_${i}`, undefined, 'step2', [`"${i}"`], []));
    w.add(job('join', undefined, 'join', [], [{ lfn: 'result', type: 'output' }]));
    w.add('jobDependencies:\n  - id: split\n    children:\n');
    for (let i = 0; i < half; i++) w.add(`      - l1_${i}\n`);
    for (let i = 0; i < half; i++) w.add(`  - id: l1_${i}\n    children:\n      - l2_${i}\n`);
    for (let i = 0; i < half; i++) w.add(`  - id: l2_${i}\n    children:\n      - join\n`);
  }
  const bytes = w.close();
  writeFileSync(
    join(dir, 'sites.yml'),
    `pegasus: "5.0"\nsites:\n  - name: hpc\n    directories:\n      - type: sharedScratch\n        path: ${dir}/scratch\n        sharedFileSystem: true\n        fileServers:\n          - url: file://${dir}/scratch\n            operation: all\n    grids:\n      - type: batch\n        contact: hpc.example.org\n        scheduler: slurm\n    profiles:\n      pegasus:\n        data.configuration: sharedfs\n`,
  );
  const trs = shape === 'koto' ? ['sim', 'merge'] : ['split', 'step1', 'step2', 'join'];
  writeFileSync(
    join(dir, 'transformations.yml'),
    `pegasus: "5.0"\ntransformations:\n${trs
      .map(
        (t) =>
          `${shape === 'koto' ? '  - namespace: koto\n    name' : '  - name'}: ${t}\n    sites:\n      - name: hpc\n        pfn: /opt/bench/bin/${t}\n        type: installed\n`,
      )
      .join('')}`,
  );
  writeFileSync(
    join(dir, 'replicas.yml'),
    `pegasus: "5.0"\nreplicas:\n${['koto-geometry.gdml', 'beam-config.json']
      .map((l) => `  - lfn: ${l}\n    pfns:\n      - site: local\n        pfn: file:///data/${l}\n`)
      .join('')}`,
  );
  return bytes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '100000' },
      shape: { type: 'string', default: 'koto' },
      out: { type: 'string', default: 'bench-workflow' },
    },
  });
  const t0 = performance.now();
  try {
    const bytes = generateWorkflow({ shape: values.shape, jobs: Number(values.jobs), out: values.out });
    console.log(
      JSON.stringify({
        shape: values.shape,
        jobs: Number(values.jobs),
        bytes,
        ms: Math.round(performance.now() - t0),
      }),
    );
  } catch (e) {
    console.error(`gen-workflow: ${e.message}`);
    process.exit(2);
  }
}
