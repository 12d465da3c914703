import { inPlannerLayout } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePlan } from '../src/plan-file.js';

const head = 'plan: "1.0"\nlabel: t\n';

describe('parsePlan', () => {
  it('reads jobs, edges and the fields the engine uses', () => {
    const p = parsePlan(
      `${head}jobs:\n  - name: a\n    kind: cluster\n    site: slurm\n    command: [pegasus-ts, mpi-cluster, x.dag]\n    retries: 2\n    priority: 20\n    dag: clusters/a.dag\n    sbatch: clusters/a.sbatch\n  - {name: b, kind: compute, site: local, command: [/bin/echo, 1], profiles: {env: {X: "1"}}}\nedges:\n  - [a, b]\n`,
      'plan.yml',
      '/s',
    );
    expect(p.jobs[0]).toMatchObject({
      name: 'a',
      kind: 'cluster',
      retries: 2,
      priority: 20,
      sbatch: 'clusters/a.sbatch',
    });
    expect(p.jobs[1].command).toEqual(['/bin/echo', '1']);
    expect(p.jobs[1].profiles.env).toEqual({ X: '1' });
    expect(p.children[0]).toEqual([1]);
    expect(Array.from(p.parentCount)).toEqual([0, 1]);
  });

  it('names the file and line of a bad job, an unknown edge end and a cycle', () => {
    expect(() =>
      parsePlan(
        `${head}jobs:\n  - {name: a, kind: compute, site: local, command: [x]}\n  - {name: b, kind: weird, site: local, command: [x]}\n`,
        'p.yml',
        '/s',
      ),
    ).toThrow(/^p\.yml:5: job b: kind "weird" \(expected one of compute, cluster/);
    expect(() =>
      parsePlan(
        `${head}jobs:\n  - {name: a, kind: compute, site: local, command: [x]}\nedges:\n  - [a, zz]\n`,
        'p.yml',
        '/s',
      ),
    ).toThrow('p.yml:6: edge: unknown child job zz');
    expect(() =>
      parsePlan(
        `${head}jobs:\n  - {name: a, kind: compute, site: local, command: [x]}\n  - {name: b, kind: compute, site: local, command: [x]}\nedges:\n  - [a, b]\n  - [b, a]\n`,
        'p.yml',
        '/s',
      ),
    ).toThrow(/p\.yml: edges: the jobs form a cycle/);
    expect(() => parsePlan('plan: "2.0"\njobs: []\n', 'p.yml', '/s')).toThrow(
      'p.yml:1: plan format "2.0" (expected "1.0")',
    );
    expect(() => parsePlan('plan: "1.0"\njobs: [\n', 'p.yml', '/s')).toThrow(/^p\.yml:\d+: /);
  });
});

describe('the line reader (the planner layout, read without a YAML parser)', () => {
  const text = [
    '# PEGASUS-TS EXECUTABLE WORKFLOW',
    'plan: "1.0"',
    'label: koto-mc',
    'wf_uuid: "5c89913b-2efb"',
    'jobCount: 2',
    'jobs:',
    '  - name: stage_in_remote_slurm_0_0',
    '    kind: stage-in',
    '    site: slurm',
    '    transformation: "pegasus::transfer"',
    '    command: [pegasus-ts, transfer]',
    '    retries: 2',
    '    priority: 700',
    '    profiles: {env: {KOTO_HOME: /opt/koto, "A B": "x: y"}, dagman: {retry: "2"}, pegasus: {cores: 1, runtime: 6.5, flag: true}}',
    '    transfers:',
    '      - {lfn: g.gdml, linkage: input, sources: [{site: local, url: "file:///in/g.gdml", checksum: {sha256: ab12}}], dest: {site: slurm, url: "file:///s/g.gdml"}}',
    '      - {lfn: "b c.json", linkage: input, sources: [], dest: {site: slurm, url: "file:///s/b c.json"}}',
    '  - name: sim',
    '    kind: compute',
    '    site: slurm',
    '    command: [/bin/koto-sim, "-o", "out file", "--seed", 1000, "[x]"]',
    '    stdout: merge.log',
    'edges:',
    '  - [stage_in_remote_slurm_0_0, sim]',
    '',
  ].join('\n');

  it('reads what a full YAML parser reads', () => {
    expect(inPlannerLayout(text)).toBe(true);
    expect(inPlannerLayout('plan: "1.0"\njobs:\n  - {name: a}\n')).toBe(false);
    const p = parsePlan(text, 'plan.yml', '/s');
    const y = parse(text) as { jobs: Record<string, unknown>[] };
    expect(p.jobs[0].profiles).toEqual(y.jobs[0].profiles);
    expect(p.jobs[0].transfers).toEqual(y.jobs[0].transfers);
    expect(p.jobs[1].command).toEqual((y.jobs[1].command as unknown[]).map(String));
    expect(p.jobs[1]).toMatchObject({ name: 'sim', stdout: 'merge.log', retries: 0 });
    expect(p.label).toBe('koto-mc');
    expect(p.children[0]).toEqual([1]);
  });

  it('names the line of a bad value in the layout', () => {
    const bad = text.replace('    retries: 2', '    retries: [2');
    expect(() => parsePlan(bad, 'plan.yml', '/s')).toThrow(/^plan\.yml:12: /);
    const negative = text.replace('    retries: 2', '    retries: -1');
    expect(() => parsePlan(negative, 'plan.yml', '/s')).toThrow(
      'plan.yml:7: job stage_in_remote_slurm_0_0: retries: expected a non-negative integer',
    );
  });
});
