import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasStackTrace, pt, ROOT, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('pt-plan-'));
});
afterEach(() => cleanup());

/** Writes the KOTO example (builder API) with `jobs` simulation jobs into dir/wf. */
function buildKoto(jobs: number): string {
  const out = path.join(dir, 'wf');
  execFileSync(process.execPath, [
    path.join(ROOT, 'examples/koto/build-workflow.mjs'),
    '--jobs',
    String(jobs),
    '--out',
    out,
  ]);
  return out;
}

describe('pegasus-ts plan', () => {
  it('plans the KOTO example into clustered Slurm jobs that the cluster runner can read', async () => {
    const wf = buildKoto(40);
    const r = await pt(
      [
        'plan',
        '--dir',
        path.join(dir, 'submit'),
        '--cluster',
        'horizontal',
        '--output-sites',
        'local',
        'workflow.yml',
      ],
      {
        cwd: wf,
      },
    );
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const submitDir = r.stdout
      .trim()
      .split('\n')
      .at(-1)!
      .replace(/^.*?(\/\S+)$/, '$1');
    expect(submitDir).toMatch(/\/submit\/[^/]+\/pegasus\/koto[^/]*\/run0001$/);
    const plan = parse(readFileSync(path.join(submitDir, 'plan.yml'), 'utf8')) as {
      jobs: { name: string; kind: string; dag?: string; sbatch?: string }[];
      edges: [string, string][];
    };
    const clusters = plan.jobs.filter((j) => j.kind === 'cluster');
    expect(clusters.length).toBeGreaterThan(0);
    expect(plan.jobs.some((j) => j.name.startsWith('stage_in_'))).toBe(true);
    expect(plan.jobs.some((j) => j.name.startsWith('create_dir_'))).toBe(true);
    const dags = readdirSync(path.join(submitDir, 'clusters')).filter((f) => f.endsWith('.dag'));
    const sbatches = readdirSync(path.join(submitDir, 'clusters')).filter((f) => f.endsWith('.sbatch'));
    expect(dags.length).toBe(clusters.length);
    expect(sbatches.length).toBe(clusters.length);
    expect(readFileSync(path.join(submitDir, 'clusters', sbatches[0]), 'utf8')).toMatch(/^#SBATCH /m);
    // The cluster runner parses every .dag the planner wrote (its --help-free dry check: --noop).
    const dag = path.join(submitDir, 'clusters', dags[0]);
    const run = await pt([
      'mpi-cluster',
      '--noop',
      '--workers',
      '1',
      '-o',
      '/dev/null',
      '-e',
      '/dev/null',
      dag,
    ]);
    expect(run.code).toBe(0);
    expect(existsSync(path.join(submitDir, 'braindump.yml'))).toBe(true);
    // A second plan gets the next run directory.
    const again = await pt(
      ['plan', '--dir', path.join(dir, 'submit'), '--cluster', 'horizontal', 'workflow.yml'],
      { cwd: wf },
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/run0002/);
  });

  it('reports a broken workflow in one line per problem with file:line:column, no stack trace', async () => {
    const wf = buildKoto(3);
    const file = path.join(wf, 'workflow.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^jobs:/m, 'jobz: []\njobs:'));
    const r = await pt(['plan', '--dir', path.join(dir, 'submit'), 'workflow.yml'], { cwd: wf });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/workflow\.yml:\d+:\d+: .*jobz/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const missing = await pt(['plan', path.join(dir, 'nope.yml')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});
