import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDag } from '@pegasus-ts/cluster';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PlanError } from '../src/errors.js';
import { plan } from '../src/plan.js';
import { createSubmitDir, timestampRunName } from '../src/submit-dir.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const ROOT = new URL('../../..', import.meta.url).pathname;
const ANCHORS = join(ROOT, 'packages/model/test/anchors');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

describe('plan: the KOTO example into clustered Slurm jobs', () => {
  it('writes plan.yml, PMC .dag files that parse, .sbatch scripts, braindump.yml and catalogs', async () => {
    await run('node', [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '25', '--out', dir]);
    const r = await plan({
      cwd: dir,
      dir: join(dir, 'submit'),
      cluster: ['horizontal'],
      outputSites: ['local'],
      user: 'alice',
      seed: 1,
    });
    expect(r.submitDir).toBe(join(dir, 'submit/alice/pegasus/koto-mc/run0001'));
    expect(r.clusters).toBe(3);
    expect(r.tasks).toBe(25);
    const p = parse(await readFile(r.planFile, 'utf8'));
    const names = p.jobs.map((j: { name: string }) => j.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'merge_koto-koto-sim-1_0_PID1_ID1',
        'merge',
        'stage_in_remote_slurm_0_0',
        'stage_out_remote_slurm_1_0',
        'register_slurm_1_0',
        'create_dir_koto-mc_0_slurm',
        'cleanup_koto-mc_0_slurm',
      ]),
    );
    expect(p.edges.length).toBe(p.edgeCount);
    const cl = p.jobs.find((j: { name: string }) => j.name === 'merge_koto-koto-sim-1_0_PID1_ID1');
    expect(cl).toMatchObject({
      kind: 'cluster',
      site: 'slurm',
      retries: 2,
      dag: 'clusters/merge_koto-koto-sim-1_0_PID1_ID1.dag',
    });
    expect(cl.tasks).toHaveLength(10);
    const dagText = await readFile(join(r.submitDir, cl.dag), 'utf8');
    const dag = parseDag(dagText, 'x.dag', { defaultTries: 1 });
    expect(dag.size).toBe(10);
    expect(dag.argv[0]).toEqual([
      join(ROOT, 'examples/koto/bin/koto-sim'),
      '--geometry',
      'koto-geometry.gdml',
      '--beam',
      'beam-config.json',
      '--seed',
      '1000',
      '--events',
      '10000',
      '-o',
      'sim-00000.root',
    ]);
    expect(dag.tries[0]).toBe(3);
    expect(dag.cpus[0]).toBe(1);
    expect(dag.pegasusId(0)).toBe('1');
    expect(dagText).toContain('#@ 1 koto::koto-sim:1.0 sim_00000\nTASK sim_00000 ');
    const sb = await readFile(join(r.submitDir, cl.sbatch), 'utf8');
    expect(sb).toContain('#SBATCH --partition=debug');
    expect(sb).toContain('#SBATCH --ntasks=2');
    expect(sb).toMatch(
      /exec srun --ntasks=2 --cpu-bind=none \$PEGASUS_TS mpi-cluster --transport mpi .*"\$DAG"/,
    );
    const bd = parse(await readFile(join(r.submitDir, 'braindump.yml'), 'utf8'));
    expect(bd).toMatchObject({
      dax_label: 'koto-mc',
      submit_dir: r.submitDir,
      plan: 'plan.yml',
      uses_pmc: 'true',
    });
    expect((await readdir(join(r.submitDir, 'catalogs'))).sort()).toEqual([
      'replicas.yml',
      'sites.yml',
      'transformations.yml',
      'workflow.yml',
    ]);
    // a second plan gets run0002
    const r2 = await plan({ cwd: dir, dir: join(dir, 'submit'), user: 'alice', cleanup: 'none' });
    expect(r2.submitDir.endsWith('run0002')).toBe(true);
  });

  it('writes walltime, memory, account and the runner margin; ZeroMQ when the site has no MPI; label clustering of the whole sim level', async () => {
    await run('node', [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '5', '--out', dir]);
    const sites = await readFile(join(dir, 'sites.yml'), 'utf8');
    await writeFile(
      join(dir, 'sites.yml'),
      sites.replace(
        'job.aggregator: mpiexec',
        'job.aggregator: mpiexec\n        maxwalltime: 60\n        memory: 2048\n        project: koto\n        mpi.launcher: none',
      ),
    );
    const r = await plan({ cwd: dir, dir, relativeDir: 'exact', cluster: ['label'], cleanup: 'leaf' });
    expect(r.submitDir).toBe(join(dir, 'exact'));
    const sb = await readFile(join(r.submitDir, 'clusters/merge_mc_PID1.sbatch'), 'utf8');
    expect(sb).toContain('#SBATCH --time=01:00:00');
    expect(sb).toContain('#SBATCH --mem=2048M');
    expect(sb).toContain('#SBATCH --account=koto');
    expect(sb).toContain('--max-wall-time 57');
    expect(sb).toContain('--transport zmq --bind');
    expect(
      parseDag(await readFile(join(r.submitDir, 'clusters/merge_mc_PID1.dag'), 'utf8'), 'd', {
        defaultTries: 1,
      }).size,
    ).toBe(5);
  });
});

describe('plan: the reference anchors', () => {
  it('reports every unresolved reference of the reference diamond, each with file:line', async () => {
    const wf = join(ANCHORS, '01-reference-diamond-inline-catalogs/workflow.yml');
    await writeFile(
      join(dir, 'sites.yml'),
      await readFile(join(ANCHORS, '02-reference-catalogs/sites.yml'), 'utf8'),
    );
    const err = await plan({ cwd: dir, workflow: wf, dir, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    const lines = (err as Error).message.split('\n');
    expect(lines[0]).toBe(
      `${wf}:89:11: unknown transformation "diamond::preprocess:2.0" for job ID000001 (expected an entry in the transformation catalog)`,
    );
    expect(lines.every((l) => l.startsWith(`${wf}:`))).toBe(true);
  });
});

describe('pegasus.dir.useTimestamp', () => {
  it('names the run by its planning time (ISO basic, local offset), which deep storage and the work dirs follow', async () => {
    await run('node', [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '2', '--out', dir]);
    const before = new Date();
    const r = await plan({
      cwd: dir,
      dir: join(dir, 'submit'),
      outputSites: ['local'],
      user: 'alice',
      defines: ['pegasus.dir.useTimestamp=true', 'pegasus.dir.storage.deep=true'],
    });
    const leaf = r.submitDir.split('/').pop() as string;
    expect(leaf).toMatch(/^\d{8}T\d{6}[+-]\d{4}$/);
    const stamp = (d: Date) => timestampRunName(d).slice(0, 15);
    expect([stamp(before), stamp(new Date())]).toContain(leaf.slice(0, 15));
    expect(r.submitDir).toBe(join(dir, 'submit/alice/pegasus/koto-mc', leaf));
    const p = parse(await readFile(r.planFile, 'utf8'));
    const rel = `alice/pegasus/koto-mc/${leaf}`;
    const outs = p.jobs.flatMap((j: { transfers?: { linkage: string; dest: { url: string } }[] }) =>
      (j.transfers ?? []).filter((t) => t.linkage === 'output').map((t) => t.dest.url),
    );
    expect(outs).toContain(`file://${dir}/outputs/${rel}/koto-merged.root`);
    expect(p.jobs.find((j: { name: string }) => j.name === 'merge').directory).toBe(`${dir}/scratch/${rel}`);
  });

  it('a second plan of the same second gets a suffix; the default stays runNNNN', async () => {
    const at = new Date(2023, 2, 3, 22, 23, 33);
    expect(timestampRunName(at)).toMatch(/^20230303T222333[+-]\d{4}$/);
    const a = await createSubmitDir(dir, 'u', 'w', undefined, at);
    const b = await createSubmitDir(dir, 'u', 'w', undefined, at);
    expect(a.relativeDir).toBe(`u/pegasus/w/${timestampRunName(at)}`);
    expect(b.relativeDir).toBe(`u/pegasus/w/${timestampRunName(at)}.001`);
    expect((await createSubmitDir(dir, 'u', 'w')).relativeDir).toBe('u/pegasus/w/run0001');
  });
});

describe('plan: bad input', () => {
  it('reports a workflow error with file:line, one line per problem', async () => {
    const f = join(dir, 'workflow.yml');
    await writeFile(
      f,
      'pegasus: "5.0"\nname: w\njobs:\n  - id: a\n    name: t\n    colour: red\n    arguments: []\n    uses: []\n',
    );
    await expect(plan({ cwd: dir, dir })).rejects.toThrow(new RegExp(`${f}:6:5: unknown key "colour"`));
  });
  it('rejects bad options with a UsageError', async () => {
    await expect(plan({ cwd: dir, cleanup: 'sometimes' })).rejects.toThrow(
      /--cleanup sometimes \(expected none, inplace or leaf\)/,
    );
    await expect(plan({ cwd: dir, cluster: ['vertical'] })).rejects.toThrow(/--cluster vertical/);
  });
  it('names an unknown site, a job no site can run, and a raw input without replica', async () => {
    await run('node', [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '2', '--out', dir]);
    await expect(plan({ cwd: dir, dir, sites: ['mars'] })).rejects.toThrow(/--sites mars: no such site/);
    await expect(plan({ cwd: dir, dir, sites: ['local'] })).rejects.toThrow(
      /workflow.yml:\d+:\d+: job "sim_00000": could not map the job to any site/,
    );
    await writeFile(join(dir, 'replicas.yml'), 'pegasus: "5.0"\nreplicas: []\n');
    await expect(plan({ cwd: dir, dir })).rejects.toThrow(/input "koto-geometry.gdml" .*no replica/);
  });
});
