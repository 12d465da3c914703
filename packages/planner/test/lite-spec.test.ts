import { api, Properties, ReplicaIndex, WorkflowGraph } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { liteSpecOf, liteSpecText, runsInScratch } from '../src/emit/lite-spec.js';
import { PlanError } from '../src/errors.js';
import { addDataMovement } from '../src/passes/add-data-movement.js';
import { mapJobs } from '../src/passes/map-jobs.js';
import { context, sites } from './helpers.js';

/** Maps a one-job workflow (a stageable executable, one input, one output, stdout) onto site `a`. */
function mapOne(config: string, props: [string, string][] = [], bypassFile = false) {
  const tc = new api.TransformationCatalog().addTransformations(
    new api.Transformation('sim', { site: 'web', pfn: 'http://example.org/sim', isStageable: true }),
  );
  const wf = new api.Workflow('w')
    .addTransformationCatalog(tc)
    .addJobs(
      new api.Job('sim', { id: 'j1' })
        .addArgs('-o', 'out.dat')
        .addInputsWith({ bypass: bypassFile }, new api.File('in.dat'))
        .addOutputs([new api.File('out.dat')])
        .setStdout('j1.log'),
    )
    .toModel();
  const sc = sites();
  sc.sites
    .find((s) => s.name === 'a')
    ?.directories.push({
      type: 'localScratch',
      path: '/node/tmp',
      fileServers: [],
    } as never);
  const ctx = context({
    siteCatalog: sc,
    properties: new Properties(new Map([['pegasus.data.configuration', config], ...props])),
    replicas: new ReplicaIndex([
      new api.ReplicaCatalog().addReplica('a', 'in.dat', 'file:///data/a/in.dat').toModel(),
    ]),
    stagingSites: new Map([['a', 'b']]),
  });
  const graph = new WorkflowGraph(wf);
  const keep = new Uint8Array(1).fill(1);
  const mapped = mapJobs(ctx, wf, graph, keep, new Int32Array(1), 'random');
  addDataMovement(ctx, mapped.workflow, { executableSources: mapped.executableSources });
  return { job: mapped.workflow.jobs[0], wf: mapped.workflow };
}

/** The lfns the workflow's stage-in jobs move. */
function stagedIn(wf: { jobs: { kind: string; transfers?: { lfn: string }[] }[] }): string[] {
  return wf.jobs.filter((j) => j.kind === 'stage-in').flatMap((j) => (j.transfers ?? []).map((t) => t.lfn));
}

describe('lite specs (nonsharedfs)', () => {
  it('a nonsharedfs job pulls every input (the staged executable too) from its staging site and pushes its outputs back', () => {
    const { job: j, wf } = mapOne('nonsharedfs');
    expect(stagedIn(wf).sort()).toEqual(['in.dat', 'sim']);
    expect(runsInScratch(j)).toBe(true);
    expect(j.stagingSite).toBe('b');
    expect(j.directory).toBeUndefined();
    expect(j.argv).toEqual(['./sim', '-o', 'out.dat']);
    const url = (lfn: string) => [{ site_label: 'b', url: `file:///scratch/b/run0001/${lfn}` }];
    expect(liteSpecOf(j)).toEqual({
      job: 'j1',
      scratch: '/node/tmp',
      stdout: 'j1.log',
      inputs: [
        { lfn: 'sim', src_urls: url('sim'), executable: true },
        { lfn: 'in.dat', src_urls: url('in.dat') },
      ],
      outputs: [
        { lfn: 'out.dat', dest_urls: url('out.dat') },
        { lfn: 'j1.log', dest_urls: url('j1.log') },
      ],
    });
    expect(JSON.parse(liteSpecText(liteSpecOf(j)))).toEqual(liteSpecOf(j));
  });

  it('pegasus.transfer.threads goes into the spec (how many files the job moves at once)', () => {
    expect(liteSpecOf(mapOne('nonsharedfs').job).threads).toBeUndefined();
    const { job } = mapOne('nonsharedfs', [['pegasus.transfer.threads', '3']]);
    expect(liteSpecOf(job).threads).toBe(3);
    expect(liteSpecText(liteSpecOf(job))).toContain('  "threads": 3,\n');
  });

  it('condorio: a job in a container still runs on the submit host work dir the container mounts', () => {
    const c = new api.Container('img', api.Container.PODMAN, 'docker://busybox');
    const tc = new api.TransformationCatalog()
      .addContainers(c)
      .addTransformations(new api.Transformation('sim', { site: 'a', pfn: '/bin/sim', container: c }));
    const wf = new api.Workflow('w')
      .addTransformationCatalog(tc)
      .addJobs(new api.Job('sim', { id: 'j1' }))
      .toModel();
    const ctx = context({
      properties: new Properties(new Map([['pegasus.data.configuration', 'condorio']])),
    });
    const { workflow } = mapJobs(
      ctx,
      wf,
      new WorkflowGraph(wf),
      new Uint8Array(1).fill(1),
      new Int32Array(1),
      'random',
    );
    const j = workflow.jobs[0];
    expect(runsInScratch(j)).toBe(false);
    expect(j.dataConfiguration).toBeUndefined();
    expect(j.argv.slice(0, 5)).toEqual([
      'podman',
      'run',
      '--rm',
      '-v',
      '/scratch/local/run0001:/scratch/local/run0001',
    ]);
  });

  it('a sharedfs job gets no scratch dir', () => {
    expect(runsInScratch(mapOne('sharedfs').job)).toBe(false);
    expect(mapOne('sharedfs').job.argv[0]).toBe('/scratch/a/run0001/sim');
  });

  it('condorio: files move through the submit host (staging site local, whatever --staging-site says)', () => {
    const { job: j, wf } = mapOne('condorio');
    expect(runsInScratch(j)).toBe(true);
    expect(j.stagingSite).toBe('local');
    expect(j.argv[0]).toBe('./sim');
    const url = (lfn: string) => [{ site_label: 'local', url: `file:///scratch/local/run0001/${lfn}` }];
    const spec = liteSpecOf(j);
    expect(spec.scratch).toBe('/node/tmp');
    expect(spec.inputs).toEqual([
      { lfn: 'sim', src_urls: url('sim'), executable: true },
      { lfn: 'in.dat', src_urls: url('in.dat') },
    ]);
    expect(spec.outputs[0]).toEqual({ lfn: 'out.dat', dest_urls: url('out.dat') });
    // stage-in jobs bring the inputs to the submit host's work dir
    const dests = wf.jobs.filter((x) => x.kind === 'stage-in').flatMap((x) => x.transfers ?? []);
    expect(dests.map((t) => t.dest.url).sort()).toEqual([
      'file:///scratch/local/run0001/in.dat',
      'file:///scratch/local/run0001/sim',
    ]);
  });

  it('bypass (per file, or pegasus.transfer.bypass.input.staging): the job pulls the input from its replica, no stage-in', () => {
    for (const [props, perFile] of [
      [[], true],
      [[['pegasus.transfer.bypass.input.staging', 'true']], false],
    ] as [[string, string][], boolean][]) {
      const { job, wf } = mapOne('nonsharedfs', props, perFile);
      expect(stagedIn(wf)).toEqual(['sim']); // a stageable executable is always staged
      expect(liteSpecOf(job).inputs[1]).toEqual({
        lfn: 'in.dat',
        src_urls: [{ site_label: 'a', url: 'file:///data/a/in.dat' }],
      });
    }
  });

  it('pegasus.transfer.links: a bypassed input already on the execution site is symlinked into the scratch dir', () => {
    const { job } = mapOne('nonsharedfs', [['pegasus.transfer.links', 'true']], true);
    expect(liteSpecOf(job).inputs[1]).toEqual({
      lfn: 'in.dat',
      symlink: true,
      src_urls: [{ site_label: 'a', url: 'file:///data/a/in.dat' }],
    });
    // from the staging site `b` (another machine) it is copied
    expect(liteSpecOf(job).inputs[0].symlink).toBeUndefined();
  });

  it('checkpoint files: staged on exit and in on a retry, TERM at checkpoint.time and KILL at maxwalltime (seconds)', () => {
    const { job } = mapOne('nonsharedfs');
    const j = {
      ...job,
      outputs: [...job.outputs, 'state.ckpt'],
      checkpoints: ['state.ckpt'],
      profiles: { pegasus: { 'checkpoint.time': 2, maxwalltime: 5 } },
    };
    const spec = liteSpecOf(j);
    expect(spec.outputs.map((o) => o.lfn)).toEqual(['out.dat', 'j1.log']);
    expect(spec.checkpoints).toEqual([
      { lfn: 'state.ckpt', dest_urls: [{ site_label: 'b', url: 'file:///scratch/b/run0001/state.ckpt' }] },
    ]);
    expect(spec.termAfter).toBe(120);
    expect(spec.killAfter).toBe(300);
    expect(JSON.parse(liteSpecText(spec))).toEqual(spec);
  });

  it('pegasus.transformation.selector: Installed refuses a stageable-only transformation, Staged and All stage it', () => {
    expect(() => mapOne('nonsharedfs', [['pegasus.transformation.selector', 'Installed']])).toThrow(
      PlanError,
    );
    expect(mapOne('nonsharedfs', [['pegasus.transformation.selector', 'Staged']]).job.argv[0]).toBe('./sim');
    expect(mapOne('nonsharedfs', [['pegasus.transformation.selector', 'All']]).job.argv[0]).toBe('./sim');
    expect(() => mapOne('nonsharedfs', [['pegasus.transformation.selector', 'Any']])).toThrow(
      'pegasus.transformation.selector is "Any" (expected Installed, Staged or All)',
    );
  });
});
