import { api, Properties, ReplicaIndex, WorkflowGraph } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { type ExecJob, emptyWorkflow } from '../src/executable-workflow.js';
import { addCleanup } from '../src/passes/add-cleanup.js';
import { addCreateDirs, addDataMovement } from '../src/passes/add-data-movement.js';
import { clusterHorizontal } from '../src/passes/cluster-horizontal.js';
import { clusterLabel } from '../src/passes/cluster-label.js';
import { reduceDataReuse } from '../src/passes/reduce-data-reuse.js';
import { selectReplicas } from '../src/passes/select-replicas.js';
import { seededRandom, selectSites } from '../src/passes/select-sites.js';
import { context } from './helpers.js';

function chain() {
  // a -> b -> c (data), d independent
  const f1 = new api.File('f1');
  const f2 = new api.File('f2');
  const f3 = new api.File('f3');
  const w = new api.Workflow('w').addJobs(
    new api.Job('t', { id: 'a' }).addInputs(new api.File('raw')).addOutputs([f1], { stageOut: false }),
    new api.Job('t', { id: 'b' }).addInputs(f1).addOutputs([f2], { stageOut: false }),
    new api.Job('t', { id: 'c' }).addInputs(f2).addOutputs([f3]),
    new api.Job('t', { id: 'd' }).addInputs(new api.File('raw')).addOutputs([new api.File('g')]),
  );
  return w.toModel();
}

describe('reduceDataReuse', () => {
  it('removes a job whose outputs exist and cascades to parents whose outputs are not staged out', () => {
    const wf = chain();
    const g = new WorkflowGraph(wf);
    const r = reduceDataReuse(g, (lfn) => lfn === 'f3');
    expect(r.deleted.map((i) => wf.jobs[i].id)).toEqual(['a', 'b', 'c']);
  });
  it('keeps parents whose outputs must still be staged out, and nothing with scope none', () => {
    const wf = chain();
    (wf.jobs[1].uses.find((u) => u.lfn === 'f2') as { stageOut: boolean }).stageOut = true;
    const g = new WorkflowGraph(wf);
    expect(reduceDataReuse(g, (lfn) => lfn === 'f3').deleted.map((i) => wf.jobs[i].id)).toEqual(['c']);
    expect(reduceDataReuse(g, () => true, 'none').deleted).toEqual([]);
  });
  it('keeps jobs whose outputs are new, even when nothing consumes them and they are not staged out', () => {
    const sims = [0, 1, 2].map((i) =>
      new api.Job('sim', { id: `sim${i}` }).addOutputs([new api.File(`s${i}`)], { stageOut: false }),
    );
    const merge = new api.Job('merge', { id: 'merge' }).addOutputs([new api.File('merged')]);
    const w = new api.Workflow('w').addJobs(...sims, merge);
    for (const s of sims) w.addDependency(s, { children: [merge] });
    const wf = w.toModel();
    expect(reduceDataReuse(new WorkflowGraph(wf), () => false).deleted).toEqual([]);
  });
});

describe('selectSites', () => {
  const input = (cands: string[][]) => ({
    count: cands.length,
    candidates: (i: number) => cands[i],
    pinned: () => undefined,
    level: () => 0,
    describe: (i: number) => `job "j${i}"`,
  });
  it('round-robin spreads a level over the sites', () => {
    expect(selectSites(input([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a']]), 'round-robin')).toEqual([
      'a',
      'b',
      'a',
      'a',
    ]);
  });
  it('random picks only candidates, reproducibly with a seed', () => {
    const c = Array.from({ length: 50 }, () => ['a', 'b', 'c']);
    const x = selectSites(input(c), 'random', seededRandom(7));
    expect(x).toEqual(selectSites(input(c), 'random', seededRandom(7)));
    expect(new Set(x)).toEqual(new Set(['a', 'b', 'c']));
  });
  it('fails for a job no site can run', () => {
    expect(() => selectSites(input([['a'], []]))).toThrow(/job "j1": could not map the job to any site/);
  });
});

describe('selectReplicas', () => {
  it('puts replicas at the preferred site first, then the rest in order', () => {
    const out = selectReplicas(
      [
        { site: 'x', pfn: 'http://x/f' },
        { site: 'a', pfn: 'file:///a/f' },
        { site: 'local', pfn: 'file:///l/f' },
      ],
      'a',
    );
    expect(out.map((p) => p.site)).toEqual(['a', 'x', 'local']);
  });
});

function compute(name: string, over: Partial<ExecJob> = {}): ExecJob {
  return {
    name,
    kind: 'compute',
    site: 'a',
    transformation: 'ns::sim:1.0',
    argv: ['/bin/sim', name],
    abstractId: name,
    stagingSite: 'a',
    inputs: [],
    outputs: [],
    profiles: {},
    retries: 1,
    level: 0,
    ...over,
  };
}

describe('clusterHorizontal', () => {
  it('cuts a level into clusters.size chunks named merge_<tr>_PID<level>_ID<n>', () => {
    const wf = emptyWorkflow('w');
    for (let i = 0; i < 4; i++)
      wf.jobs.push(compute(`j${i}`, { profiles: { pegasus: { 'clusters.size': 3 } } }));
    const out = clusterHorizontal(wf);
    expect(out.jobs.map((j) => [j.name, j.tasks?.length])).toEqual([
      ['merge_ns-sim-1_0_PID1_ID1', 3],
      ['j3', undefined],
    ]);
  });
  it('clusters.num = 3 over 4 jobs gives 2,1,1 (singletons kept only with allowSingle)', () => {
    const wf = emptyWorkflow('w');
    for (let i = 0; i < 4; i++)
      wf.jobs.push(compute(`j${i}`, { profiles: { pegasus: { 'clusters.num': 3 } } }));
    expect(clusterHorizontal(wf, true).jobs.map((j) => j.tasks?.length)).toEqual([2, 1, 1]);
  });
  it('keeps edges to and from clusters', () => {
    const wf = emptyWorkflow('w');
    wf.jobs.push(compute('root', { transformation: 'r' }));
    for (let i = 0; i < 4; i++) {
      wf.jobs.push(compute(`j${i}`, { profiles: { pegasus: { 'clusters.size': 2 } } }));
      wf.edgeFrom.push(0);
      wf.edgeTo.push(i + 1);
    }
    const out = clusterHorizontal(wf);
    expect(out.jobs.map((j) => j.name)).toEqual([
      'root',
      'merge_ns-sim-1_0_PID2_ID1',
      'merge_ns-sim-1_0_PID2_ID2',
    ]);
    expect(out.edgeFrom.length).toBe(2);
  });
});

describe('clusterLabel', () => {
  it('makes one job of a labelled sub-DAG with its inner edges, and rejects a label that creates a cycle', () => {
    const wf = emptyWorkflow('w');
    const L = { pegasus: { label: 'x' } };
    wf.jobs.push(compute('a', { profiles: L }), compute('b', { profiles: L }), compute('c'));
    wf.edgeFrom.push(0, 1);
    wf.edgeTo.push(1, 2);
    const out = clusterLabel(wf);
    expect(out.jobs.map((j) => j.name)).toEqual(['merge_x_PID1', 'c']);
    expect(out.jobs[0].taskEdges).toEqual([[0, 1]]);
    const bad = emptyWorkflow('w');
    bad.jobs.push(compute('a', { profiles: L }), compute('m'), compute('b', { profiles: L }));
    bad.edgeFrom.push(0, 1);
    bad.edgeTo.push(1, 2);
    expect(() => clusterLabel(bad)).toThrow(/dependency cycle/);
    expect(clusterLabel(bad, 'label', true).jobs).toHaveLength(1);
  });
});

describe('addDataMovement, addCreateDirs, addCleanup', () => {
  const rc = new api.ReplicaCatalog().addReplica('local', 'raw', 'file:///data/raw').toModel();
  it('stages a raw input once per site (about one job per ten nodes), out to the output site, registers', () => {
    const ctx = context({ replicas: new ReplicaIndex([rc]), outputSites: ['local'] });
    const wf = emptyWorkflow('w');
    for (let i = 0; i < 12; i++)
      wf.jobs.push(
        compute(`j${i}`, { inputs: ['raw'], outputs: [`o${i}`], stageOut: [`o${i}`], register: [`o${i}`] }),
      );
    addDataMovement(ctx, wf);
    addCreateDirs(ctx, wf);
    const names = wf.jobs.map((j) => j.name);
    expect(names).toContain('stage_in_remote_a_0_0');
    expect(names).toContain('stage_out_remote_a_0_1');
    expect(names).toContain('register_a_0_1');
    expect(names).toContain('create_dir_w_0_a');
    const si = wf.jobs.find((j) => j.name === 'stage_in_remote_a_0_0');
    expect(si?.transfers).toEqual([
      {
        lfn: 'raw',
        linkage: 'input',
        sources: [{ site: 'local', url: 'file:///data/raw' }],
        dest: { site: 'a', url: 'file:///scratch/a/run0001/raw' },
      },
    ]);
    const reg = wf.jobs.find((j) => j.name === 'register_a_0_0');
    expect(reg?.registrations?.[0]).toEqual({
      lfn: 'o0',
      url: 'file:///scratch/local-out/o0',
      site: 'local',
    });
  });
  it('adds inter-site transfers between staging sites, inplace and leaf cleanup', () => {
    const ctx = context({ replicas: new ReplicaIndex([rc]), executionSites: ['a', 'b'] });
    const wf = emptyWorkflow('w');
    wf.jobs.push(
      compute('p', { inputs: ['raw'], outputs: ['mid'] }),
      compute('c', { site: 'b', stagingSite: 'b', inputs: ['mid'] }),
    );
    wf.edgeFrom.push(0);
    wf.edgeTo.push(1);
    addDataMovement(ctx, wf);
    addCreateDirs(ctx, wf);
    addCleanup(ctx, wf, 'inplace');
    const names = wf.jobs.map((j) => j.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'stage_inter_remote_p_0',
        'create_dir_w_0_a',
        'create_dir_w_0_b',
        'clean_up_a_level_3_0',
        'cleanup_w_0_a',
        'cleanup_w_0_b',
      ]),
    );
    const leafA = names.indexOf('cleanup_w_0_a');
    const parents = wf.edgeFrom.filter((_, k) => wf.edgeTo[k] === leafA).map((i) => wf.jobs[i].name);
    expect(parents.every((n) => n.startsWith('clean_up_a'))).toBe(true);
    const leafOnly = emptyWorkflow('w');
    leafOnly.jobs.push(compute('x'));
    addCleanup(ctx, leafOnly, 'leaf');
    expect(leafOnly.jobs.map((j) => j.name)).toEqual(['x', 'cleanup_w_0_a']);
  });
  it('counts in-place cleanup candidates per owning job, as Pegasus does', () => {
    const ctx = context({ replicas: new ReplicaIndex([rc]) });
    const wf = emptyWorkflow('w');
    // 12 independent jobs, each writing a file that one merge reads: every file's deepest user is the
    // merge, so one cleanup job removes all 12 (a file per job would give ceil(12 / 5) = 3)
    for (let i = 0; i < 12; i++) wf.jobs.push(compute(`s${i}`, { outputs: [`o${i}`] }));
    wf.jobs.push(compute('merge', { inputs: Array.from({ length: 12 }, (_, i) => `o${i}`), outputs: ['m'] }));
    for (let i = 0; i < 12; i++) {
      wf.edgeFrom.push(i);
      wf.edgeTo.push(12);
    }
    // 6 more jobs each with a private scratch file: 6 owners -> ceil(6 / 5) = 2 cleanup jobs at their level
    for (let i = 0; i < 6; i++) wf.jobs.push(compute(`t${i}`, { outputs: [`tmp${i}`] }));
    addDataMovement(ctx, wf);
    addCleanup(ctx, wf, 'inplace');
    const cleanups = wf.jobs.filter((j) => j.name.startsWith('clean_up_'));
    const afterMerge = cleanups.filter((j) => j.targets?.some((t) => t.url.endsWith('/o0')));
    expect(afterMerge).toHaveLength(1);
    expect(afterMerge[0].targets?.filter((t) => /\/o\d+$/.test(t.url))).toHaveLength(12);
    const tmp = cleanups.filter((j) => j.targets?.some((t) => /\/tmp\d$/.test(t.url)));
    expect(tmp).toHaveLength(2);
    expect(tmp.flatMap((j) => j.targets ?? []).filter((t) => /\/tmp\d$/.test(t.url))).toHaveLength(6);
  });
  it('fails for a raw input without a replica', () => {
    const wf = emptyWorkflow('w');
    wf.jobs.push(compute('j', { inputs: ['nowhere'] }));
    expect(() => addDataMovement(context({ properties: new Properties() }), wf)).toThrow(
      /input "nowhere" .* no replica/,
    );
  });
});
