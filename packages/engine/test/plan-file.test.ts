import { describe, expect, it } from 'vitest';
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
