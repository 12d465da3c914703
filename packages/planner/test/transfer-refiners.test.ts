import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api, loadSiteCatalog, mergeProfiles, Properties, ReplicaIndex } from '@pegasus-ts/model';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExecJob, type ExecutableWorkflow, emptyWorkflow } from '../src/executable-workflow.js';
import { addDataMovement } from '../src/passes/add-data-movement.js';
import { plan as planWorkflow } from '../src/plan.js';
import { context, tempDir } from './helpers.js';

/** Four independent jobs, each reading two raw inputs of its own and writing one staged-out output. */
function fourJobs(profiles: ExecJob['profiles'] = {}): ExecutableWorkflow {
  const wf = emptyWorkflow('w');
  for (let i = 0; i < 4; i++) {
    wf.jobs.push({
      name: `j${i}`,
      kind: 'compute',
      site: 'a',
      transformation: 'ns::sim:1.0',
      argv: ['/bin/sim'],
      abstractId: `j${i}`,
      stagingSite: 'a',
      inputs: [`x${i}`, `y${i}`],
      outputs: [`o${i}`],
      stageOut: [`o${i}`],
      register: [`o${i}`],
      profiles,
      retries: 1,
      level: 0,
    });
  }
  return wf;
}

function replicas(): ReplicaIndex {
  const rc = new api.ReplicaCatalog();
  for (let i = 0; i < 4; i++) {
    rc.addReplica('local', `x${i}`, `file:///data/x${i}`);
    rc.addReplica('local', `y${i}`, `file:///data/y${i}`);
  }
  return new ReplicaIndex([rc.toModel()]);
}

/**
 * Plans the data movement of `fourJobs` with these properties (which, as mapJobs does, also fill
 * in the jobs' profiles): transfer job name -> the lfns it moves.
 */
function plan(props: [string, string][], profiles: ExecJob['profiles'] = {}) {
  const properties = new Properties(new Map(props));
  const ctx = context({ replicas: replicas(), outputSites: ['local'], properties });
  const wf = addDataMovement(ctx, fourJobs(mergeProfiles(profiles, properties.profiles(), 'fill')));
  const moves = new Map<string, string[]>();
  for (const j of wf.jobs) if (j.transfers) moves.set(j.name, j.transfers.map((t) => t.lfn).sort());
  return { wf, moves };
}

/** The transfer jobs a compute job depends on. */
function stageInsOf(wf: ExecutableWorkflow, name: string): string[] {
  const i = wf.jobs.findIndex((j) => j.name === name);
  const parents = wf.edgeFrom.filter((_, k) => wf.edgeTo[k] === i).map((p) => wf.jobs[p].name);
  return [...new Set(parents.filter((n) => n.startsWith('stage_in')))].sort();
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('pegasus.transfer.refiner', () => {
  it('BalancedCluster (the default): files round-robin, one at a time, over the stagein.clusters jobs of a level', () => {
    const { wf, moves } = plan([['pegasus.stagein.clusters', '2']]);
    expect(moves.get('stage_in_remote_a_0_0')).toEqual(['x0', 'x1', 'x2', 'x3']);
    expect(moves.get('stage_in_remote_a_0_1')).toEqual(['y0', 'y1', 'y2', 'y3']);
    // a compute job depends on both: its two files went to different jobs
    expect(stageInsOf(wf, 'j0')).toEqual(['stage_in_remote_a_0_0', 'stage_in_remote_a_0_1']);
    // ceil(4 nodes / 10) = 1 stage-out job without stageout.clusters
    expect([...moves.keys()].filter((n) => n.startsWith('stage_out'))).toEqual(['stage_out_remote_a_0_0']);
  });

  it('Cluster: the same number of jobs, but all the files of one compute job in one of them', () => {
    const { wf, moves } = plan([
      ['pegasus.transfer.refiner', 'Cluster'],
      ['pegasus.stagein.clusters', '2'],
      ['pegasus.stageout.clusters', '3'],
    ]);
    expect(moves.get('stage_in_remote_a_0_0')).toEqual(['x0', 'x2', 'y0', 'y2']);
    expect(moves.get('stage_in_remote_a_0_1')).toEqual(['x1', 'x3', 'y1', 'y3']);
    for (let i = 0; i < 4; i++) expect(stageInsOf(wf, `j${i}`)).toEqual([`stage_in_remote_a_0_${i % 2}`]);
    expect([...moves.keys()].filter((n) => n.startsWith('stage_out')).sort()).toEqual([
      'stage_out_remote_a_0_0',
      'stage_out_remote_a_0_1',
      'stage_out_remote_a_0_2',
    ]);
    expect(wf.jobs.filter((j) => j.kind === 'registration').map((j) => j.name)).toEqual([
      'register_a_0_0',
      'register_a_0_1',
      'register_a_0_2',
    ]);
  });

  it('Basic: one stage-in and one stage-out job per compute job (stagein.clusters has no say)', () => {
    const { wf, moves } = plan([
      ['pegasus.transfer.refiner', 'Basic'],
      ['pegasus.stagein.clusters', '1'],
    ]);
    for (let i = 0; i < 4; i++) {
      expect(moves.get(`stage_in_remote_j${i}_0`)).toEqual([`x${i}`, `y${i}`]);
      expect(moves.get(`stage_out_remote_j${i}_0`)).toEqual([`o${i}`]);
      expect(stageInsOf(wf, `j${i}`)).toEqual([`stage_in_remote_j${i}_0`]);
    }
    expect(moves.size).toBe(8);
    expect(wf.jobs.filter((j) => j.kind === 'registration')).toHaveLength(4);
  });

  it('stagein.local.clusters / stageout.remote.clusters before the generic key; job (or site) profiles before properties', () => {
    const { moves } = plan(
      [
        ['pegasus.stagein.clusters', '1'],
        ['pegasus.stagein.remote.clusters', '4'],
      ],
      {},
    );
    expect([...moves.keys()].filter((n) => n.startsWith('stage_in'))).toHaveLength(4);
    // the job's merged profiles (site catalog, TC, job) carry the key: they win over the properties
    const { moves: m2 } = plan([['pegasus.stagein.clusters', '4']], { pegasus: { 'stagein.clusters': '2' } });
    expect([...m2.keys()].filter((n) => n.startsWith('stage_in'))).toHaveLength(2);
  });

  it('an unknown refiner is a PlanError naming the property and the values expected', () => {
    expect(() => plan([['pegasus.transfer.refiner', 'Bundle']])).toThrow(
      'pegasus.transfer.refiner is "Bundle" (expected BalancedCluster, Cluster or Basic)',
    );
  });
});

describe('pegasus.transfer.threads', () => {
  it('each transfer job carries it (default 2) for pegasus-ts transfer --jobs', () => {
    const dflt = plan([]).wf.jobs.filter((j) => j.transfers);
    expect(dflt.length).toBeGreaterThan(0);
    for (const j of dflt) expect(j.profiles).toEqual({ pegasus: { 'transfer.threads': '2' } });
    const set = plan([['pegasus.transfer.threads', '6']]).wf.jobs.filter((j) => j.transfers);
    for (const j of set) expect(j.profiles.pegasus?.['transfer.threads']).toBe('6');
  });

  it('a bad value in the site catalog names its file and line', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'sites.yml');
    await writeFile(
      file,
      [
        "pegasus: '5.0'",
        'sites:',
        '  - name: a',
        '    directories:',
        '      - {type: sharedScratch, path: /scratch/a, fileServers: [{url: file:///scratch/a, operation: all}]}',
        '    profiles:',
        '      pegasus:',
        '        transfer.threads: many',
        '',
      ].join('\n'),
    );
    const siteCatalog = await loadSiteCatalog(file);
    const ctx = context({ replicas: replicas(), siteCatalog });
    const profiles = { pegasus: { 'transfer.threads': 'many' } };
    expect(() => addDataMovement(ctx, fourJobs(profiles))).toThrow(
      `${file}:8:9: pegasus profile transfer.threads is "many" (expected an integer from 1 to 1024)`,
    );
  });
});

describe('transfer profiles of a site (plan)', () => {
  const ROOT = new URL('../../..', import.meta.url).pathname;

  it("the execution site's stagein.clusters and transfer.threads shape its transfer jobs; a bad one names sites.yml:line", async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await promisify(execFile)('node', [
      join(ROOT, 'examples/koto/build-workflow.mjs'),
      ...['--jobs', '4', '--out', t.dir],
    ]);
    const sitesFile = join(t.dir, 'sites.yml');
    const sites = await readFile(sitesFile, 'utf8');
    const withProfiles = (threads: string) =>
      sites.replace(
        '        job.aggregator: mpiexec',
        `        job.aggregator: mpiexec\n        stagein.clusters: 2\n        transfer.threads: ${threads}`,
      );
    await writeFile(sitesFile, withProfiles('5'));
    const r = await planWorkflow({
      cwd: t.dir,
      dir: join(t.dir, 'submit'),
      outputSites: ['local'],
      user: 'alice',
    });
    const planText = await readFile(r.planFile, 'utf8');
    const stageIns = [...planText.matchAll(/^ {2}- name: (stage_in_\S+)$/gm)].map((m) => m[1]);
    // two raw inputs read by the simulations at level 0: one per stage-in job, two jobs
    expect(stageIns.sort()).toEqual(['stage_in_remote_slurm_0_0', 'stage_in_remote_slurm_0_1']);
    expect(planText).toMatch(
      /name: stage_in_remote_slurm_0_0\n[\s\S]*?profiles: \{pegasus: \{transfer.threads: "5"\}\}/,
    );
    await writeFile(sitesFile, withProfiles('lots'));
    const line =
      withProfiles('lots')
        .split('\n')
        .findIndex((l) => l.includes('transfer.threads')) + 1;
    await expect(
      planWorkflow({ cwd: t.dir, dir: join(t.dir, 'submit2'), outputSites: ['local'], user: 'alice' }),
    ).rejects.toThrow(
      `${sitesFile}:${line}:9: pegasus profile transfer.threads is "lots" (expected an integer from 1 to 1024)`,
    );
    // nothing half-made: no run dir left behind
    expect(await readdir(join(t.dir, 'submit2', 'alice', 'pegasus', 'koto-mc'))).toEqual([]);
  });
});
