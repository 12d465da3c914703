import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  inPlannerLayout,
  type PlanHeader,
  type PlanJob,
  type PlanSink,
  parsePlanText,
  readPlanFile,
  writePlan,
} from '../src/plan-file.js';

const header: PlanHeader = {
  label: 'koto',
  wfUuid: 'u-1',
  workflow: '/w/workflow.yml',
  submitDir: '/s/run0001',
  relativeDir: 'run0001',
  timestamp: '20260101T000000+0000',
};

const jobs: PlanJob[] = [
  {
    name: 'stage_in_0',
    kind: 'stage-in',
    site: 'local',
    transformation: 'pegasus::transfer',
    command: ['pegasus-ts', 'transfer'],
    stagingSite: 'hpc',
    retries: 2,
    priority: 700,
    inputs: [],
    outputs: [],
    profiles: {},
    transfers: [
      {
        lfn: 'g b.gdml',
        linkage: 'input',
        sources: [{ site: 'local', url: 'file:///in/g b.gdml', checksum: { sha256: 'ab12' } }],
        dest: { site: 'hpc', url: 'file:///s/g b.gdml' },
      },
    ],
  },
  {
    name: 'sim_1',
    kind: 'cluster',
    site: 'hpc',
    transformation: 'pegasus::mpiexec',
    command: ['pegasus-ts', 'mpi-cluster', 'clusters/sim_1.dag', '--seed', 'true', '1000'],
    id: 'ID1',
    dataConfiguration: 'sharedfs',
    directory: '/scratch/run 1',
    retries: 0,
    priority: 20,
    inputs: ['g b.gdml'],
    outputs: ['yes', 'o.root'],
    stdout: 'out.txt',
    profiles: { env: { A: 'x: y', 'B C': '1' }, pegasus: { cores: 4, runtime: 6.5 } },
    clustering: 'horizontal',
    dag: 'clusters/sim_1.dag',
    tasks: ['ID1', 'ID2'],
    sbatch: 'clusters/sim_1.sbatch',
  },
  {
    name: '1000',
    kind: 'cleanup',
    site: 'local',
    transformation: 'pegasus::cleanup',
    command: ['pegasus-ts', 'transfer'],
    retries: 0,
    priority: 1000,
    inputs: [],
    outputs: [],
    profiles: {},
    targets: [{ site: 'hpc', url: 'file:///s' }],
    recursive: true,
  },
  {
    name: 'inner',
    kind: 'sub-workflow',
    site: 'local',
    transformation: 'pegasus::pegasus-plan',
    command: ['plan', '/w/inner.yml', '--relative-dir', 'run0001/sub-workflows/inner', '--sites', 'hpc'],
    id: 'inner',
    retries: 1,
    priority: 10,
    inputs: [],
    outputs: [],
    profiles: {},
    subWorkflow: 'sub-workflows/inner',
  },
];
const edges: [string, string][] = [
  ['stage_in_0', 'sim_1'],
  ['sim_1', '1000'],
];

function written(): string {
  let text = '';
  writePlan(
    header,
    jobs.length,
    (i) => jobs[i],
    edges.length,
    (k) => edges[k],
    (s) => {
      text += s;
    },
  );
  return text;
}

/** A sink that keeps everything (and counts resets). */
function collect(fields?: string[]) {
  const got = {
    header: undefined as PlanHeader | undefined,
    jobs: [] as PlanJob[],
    lines: [] as (number | undefined)[],
    edges: [] as [string, string][],
    resets: 0,
  };
  const sink: PlanSink = {
    fields: fields && new Set(fields),
    header: (h) => {
      got.header = h;
    },
    job: (j, line) => {
      got.jobs.push(j);
      got.lines.push(line);
    },
    edge: (p, c) => got.edges.push([p, c]),
    reset: () => {
      got.resets++;
      got.jobs = [];
      got.edges = [];
    },
  };
  return { got, sink };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('plan.yml', () => {
  it('reads back what it writes, streamed from a file, as a YAML parser reads it', () => {
    const text = written();
    expect(inPlannerLayout(text)).toBe(true);
    const file = join(dir, 'plan.yml');
    writeFileSync(file, text);
    const { got, sink } = collect();
    expect(readPlanFile(file, sink)).toBe('lines');
    expect(got.header).toEqual({ ...header, jobCount: 4, edgeCount: 2 });
    expect(got.jobs).toEqual(
      jobs.map((j) => ({ ...j, recursive: j.recursive ?? false, command: j.command.map(String) })),
    );
    expect(got.edges).toEqual(edges);
    const y = parse(text) as { jobs: Record<string, unknown>[]; edges: unknown[] };
    expect(got.jobs.map((j) => j.profiles)).toEqual(y.jobs.map((j) => j.profiles ?? {}));
    expect(got.jobs[0].transfers).toEqual(y.jobs[0].transfers);
    expect(got.edges).toEqual(y.edges.map((e) => (e as unknown[]).map(String)));
    expect(got.lines[0]).toBe(text.split('\n').indexOf('  - name: stage_in_0') + 1);
  });

  it('skips the fields a sink does not use, still checking those it must', () => {
    const { got, sink } = collect(['inputs']);
    parsePlanText(written(), 'plan.yml', sink);
    expect(got.jobs[0].transfers).toBeUndefined();
    expect(got.jobs[1]).toMatchObject({
      name: 'sim_1',
      kind: 'cluster',
      dag: 'clusters/sim_1.dag',
      inputs: ['g b.gdml'],
    });
    expect(got.jobs[1].profiles).toEqual({});
    const bad = written().replace('    retries: 2', '    retries: -2');
    expect(() => parsePlanText(bad, 'p.yml', collect(['inputs']).sink)).toThrow(
      /^p\.yml:\d+: job stage_in_0: retries: expected a non-negative integer$/,
    );
  });

  it('reads a hand-edited file as one YAML document, after a reset', () => {
    const text = `${written()}extra:\n  - {name: x}\n`;
    expect(inPlannerLayout(text)).toBe(false);
    const file = join(dir, 'plan.yml');
    writeFileSync(file, text);
    const { got, sink } = collect();
    expect(readPlanFile(file, sink)).toBe('yaml');
    expect(got.resets).toBe(1);
    expect(got.jobs.map((j) => j.name)).toEqual(['stage_in_0', 'sim_1', '1000', 'inner']);
    expect(got.edges).toEqual(edges);
  });

  it('names the file and line of what is wrong', () => {
    const { sink } = collect();
    expect(() => readPlanFile(join(dir, 'none.yml'), sink)).toThrow(/none\.yml: cannot read: ENOENT/);
    expect(() => parsePlanText('plan: "2.0"\njobs: []\n', 'p.yml', sink)).toThrow(
      'p.yml:1: plan format "2.0" (expected "1.0")',
    );
    expect(() =>
      parsePlanText(
        'plan: "1.0"\njobs:\n  - name: a\n    kind: cluster\n    site: s\n    command: [x]\n',
        'p.yml',
        sink,
      ),
    ).toThrow('p.yml:3: job a: a cluster job needs dag');
    expect(() =>
      parsePlanText(
        'plan: "1.0"\njobs:\n  - name: a\n    kind: sub-workflow\n    site: local\n    command: []\n',
        'p.yml',
        sink,
      ),
    ).toThrow('p.yml:3: job a: a sub-workflow job needs subWorkflow (its submit dir)');
    expect(() => parsePlanText('plan: "1.0"\njobs: []\nedges:\n  - [a, b, c]\n', 'p.yml', sink)).toThrow(
      'p.yml:4: edge: expected [parent, child]',
    );
    expect(() => parsePlanText('plan: "1.0"\njobs: {a: 1}\n', 'p.yml', sink)).toThrow(
      'p.yml:2: jobs: expected a list',
    );
  });
});
