import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/api/index.js';
import { ModelError } from '../src/errors.js';
import { loadInputs } from '../src/load-inputs.js';
import { parseSiteCatalog } from '../src/load-site-catalog.js';
import { loadWorkflow, parseWorkflow } from '../src/load-workflow.js';
import { WorkflowGraph } from '../src/workflow-graph.js';
import { schemaErrors } from './schemas.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-builder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function diamond() {
  const fa = new api.File('f.a').addMetadata({ creator: 'alice' });
  const fb1 = new api.File('f.b1');
  const fb2 = new api.File('f.b2');
  const fc1 = new api.File('f.c1');
  const fc2 = new api.File('f.c2');
  const fd = new api.File('f.d');
  const rc = new api.ReplicaCatalog().addReplica('local', fa, 'file:///data/f.a', {
    checksum: { sha256: 'ab'.repeat(32) },
  });
  const container = new api.Container('centos', api.Container.SINGULARITY, 'docker://centos:7', {
    mounts: ['/data:/data:ro'],
  }).addEnv({ LANG: 'C' });
  const pre = new api.Transformation('preprocess', {
    namespace: 'diamond',
    version: '4.0',
    site: 'condorpool',
    pfn: '/usr/bin/pegasus-keg',
    container,
  })
    .addPegasusProfile({ cores: 2 })
    .addShellHook('start', '/bin/date')
    .addMetadata({ size: 2048 });
  const find = new api.Transformation('findrange', { namespace: 'diamond', version: '4.0' }).addSites(
    new api.TransformationSite('local', 'https://example.org/findrange', true, {
      arch: 'x86_64',
      osType: 'linux',
    }),
  );
  const analyze = new api.Transformation('analyze', {
    site: 'condorpool',
    pfn: '/usr/bin/analyze',
  }).addRequirement(find);
  const tc = new api.TransformationCatalog().addTransformations(pre, find, analyze).addContainers(container);
  const wf = new api.Workflow('diamond')
    .addShellHook('error', '/bin/mail -s failed ops@example.org')
    .addMetadata({ creator: 'alice' })
    .addEnv({ WF: 'diamond' });
  const j1 = new api.Job(pre)
    .addArgs('-a', 'preprocess', '-T', 60, '-i', fa, '-o', fb1, fb2)
    .addInputs(fa)
    .addOutputs([fb1, fb2], { stageOut: false, registerReplica: false })
    .addDagmanProfile({ retry: 3 });
  const j2 = new api.Job(find).addArgs('-i', fb1, '-o', fc1).addInputs(fb1).addOutputs([fc1]);
  const j3 = new api.Job(find).addArgs('-i', fb2, '-o', fc2).addInputs(fb2).addOutputs([fc2]);
  const j4 = new api.Job(analyze, { nodeLabel: 'the end' })
    .addArgs('-i', fc1, fc2, '-o', fd)
    .addInputs(fc1, fc2)
    .addOutputs([fd])
    .setStdout('analyze.log')
    .addCheckpoint('state.ckpt');
  wf.addJobs(j1, j2, j3, j4).addDependency(j4, { parents: [j2, j3] });
  return { wf, rc, tc };
}

describe('builder API', () => {
  it('writes a diamond that validates against the schema and loads back', async () => {
    const { wf, rc, tc } = diamond();
    wf.addReplicaCatalog(rc).addTransformationCatalog(tc);
    const out = join(dir, 'workflow.yml');
    await wf.write(out);
    const text = await readFile(out, 'utf8');
    expect(schemaErrors('wf', text)).toEqual([]);
    const model = await loadWorkflow(out);
    expect(model.jobs.map((j) => j.id)).toEqual(['ID0000001', 'ID0000002', 'ID0000003', 'ID0000004']);
    expect(model.jobs[0].arguments).toEqual([
      '-a',
      'preprocess',
      '-T',
      60,
      '-i',
      'f.a',
      '-o',
      'f.b1',
      'f.b2',
    ]);
    expect(model.jobs[3].uses.map((u) => `${u.lfn}:${u.type}`)).toEqual([
      'f.c1:input',
      'f.c2:input',
      'f.d:output',
      'analyze.log:output',
      'state.ckpt:checkpoint',
    ]);
    // explicit edges plus the inferred data edges
    expect(model.dependencies).toEqual([
      { id: 'ID0000002', children: ['ID0000004'] },
      { id: 'ID0000003', children: ['ID0000004'] },
      { id: 'ID0000001', children: ['ID0000002', 'ID0000003'] },
    ]);
    expect(model.extensions?.['x-pegasus']).toMatchObject({ apiLang: 'typescript' });
    expect(model.transformationCatalog?.transformations[2].requires).toEqual(['diamond::findrange:4.0']);
    expect(model.transformationCatalog?.transformations[0].sites[0].container).toBe('centos');
    expect(new WorkflowGraph(model).topologicalOrder()).toHaveLength(4);
    expect(() => wf.validate()).not.toThrow();
  });

  it('writes catalogs and properties that validate and load', async () => {
    const { wf, rc, tc } = diamond();
    const sc = new api.SiteCatalog().addSites(
      new api.Site('local', { arch: 'x86_64', osType: 'linux' })
        .addDirectories(
          new api.Directory(api.Directory.SHARED_SCRATCH, '/tmp/scratch').addFileServers(
            new api.FileServer('file:///tmp/scratch', 'all'),
          ),
        )
        .addEnv({ PATH: '/bin' }),
      new api.Site('hpc', { osVersion: '8' })
        .addGrids(new api.Grid('batch', 'login.example.org', 'slurm', { jobtype: 'compute', totalNodes: 4 }))
        .addDirectories(
          new api.Directory(api.Directory.SHARED_SCRATCH, '/lustre', {
            sharedFileSystem: true,
          }).addFileServers(
            new api.FileServer('scp://login/lustre', 'put'),
            new api.FileServer('https://data/lustre', 'get'),
          ),
        )
        .addPegasusProfile({ style: 'glite', 'clusters.num': 4 }),
    );
    expect(schemaErrors('sc', sc.toYaml())).toEqual([]);
    expect(schemaErrors('tc', tc.toYaml())).toEqual([]);
    expect(schemaErrors('rc', rc.toYaml())).toEqual([]);
    expect(parseSiteCatalog(sc.toYaml())).toEqual(sc.toModel());
    await Promise.all([
      wf.write(join(dir, 'w2.yml')),
      sc.write(join(dir, 'sites.yml')),
      tc.write(join(dir, 'transformations.yml')),
      rc.write(join(dir, 'replicas.yml')),
      new api.Properties({ 'pegasus.mode': 'development' }).write(join(dir, 'pegasus.properties')),
    ]);
    const inputs = await loadInputs({
      workflow: join(dir, 'w2.yml'),
      sites: join(dir, 'sites.yml'),
      transformations: join(dir, 'transformations.yml'),
      replicas: join(dir, 'replicas.yml'),
      properties: join(dir, 'pegasus.properties'),
    });
    expect(inputs.siteCatalog?.sites[1].grids[0].scheduler).toBe('slurm');
    expect(inputs.properties.get('pegasus.mode')).toBe('development');
  });

  it('reports what is missing when validating against catalogs', () => {
    const { wf, tc } = diamond();
    try {
      wf.validate({ transformationCatalog: tc, replicaCatalog: [] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).message).toBe(
        'diamond: input "f.a" of job ID0000001 is produced by no job and has no replica (expected a replica catalog entry, a producing job, or optional: true)',
      );
    }
  });

  it('rejects misuse early', () => {
    const wf = new api.Workflow('w');
    wf.addJobs(new api.Job('t', { id: 'a' }));
    expect(() => wf.addJobs(new api.Job('t', { id: 'a' }))).toThrow(/duplicate job id a/);
    expect(() => new api.Job('t').addInputs('x').addOutputs(['x'])).toThrow(/already used as input/);
    expect(() => new api.Transformation('t').toModel()).toThrow(/at least one site/);
  });

  it('sub-workflow jobs mark their file forPlanning', () => {
    const wf = new api.Workflow('outer').addJobs(new api.SubWorkflow('inner.yml', true, { id: 'sub' }));
    const text = wf.toYaml();
    expect(schemaErrors('wf', text)).toEqual([]);
    const job = parseWorkflow(text).jobs[0];
    expect(job.type === 'pegasusWorkflow' && job.file).toBe('inner.yml');
    expect(job.uses[0]).toMatchObject({ lfn: 'inner.yml', forPlanning: true });
  });
});

describe('examples/koto', () => {
  it('writes a Monte-Carlo workflow and catalogs that validate and load together', async () => {
    const out = join(dir, 'koto');
    await run(
      process.execPath,
      [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', '12', '--out', out],
      {
        cwd: ROOT,
      },
    );
    for (const [kind, f] of [
      ['wf', 'workflow.yml'],
      ['sc', 'sites.yml'],
      ['tc', 'transformations.yml'],
      ['rc', 'replicas.yml'],
    ] as const) {
      expect(schemaErrors(kind, await readFile(join(out, f), 'utf8'))).toEqual([]);
    }
    const inputs = await loadInputs({
      workflow: join(out, 'workflow.yml'),
      sites: join(out, 'sites.yml'),
      transformations: join(out, 'transformations.yml'),
      replicas: join(out, 'replicas.yml'),
      properties: join(out, 'pegasus.properties'),
    });
    const wf = inputs.workflow;
    expect(wf.jobs).toHaveLength(13);
    const g = new WorkflowGraph(wf);
    expect(g.parentsOf('merge')).toHaveLength(12);
    expect(g.childrenOf('sim_00000').map((j) => j.id)).toEqual(['merge']);
    const slurm = inputs.siteCatalog?.sites.find((s) => s.name === 'slurm');
    expect(slurm?.grids[0]).toMatchObject({ type: 'batch', scheduler: 'slurm' });
    expect(inputs.properties.get('pegasus.clusterer.job.aggregator')).toBe('mpiexec');
  });

  it('rejects a bad --jobs with a one-line message', async () => {
    const err = await run(process.execPath, [join(ROOT, 'examples/koto/build-workflow.mjs'), '--jobs', 'x'], {
      cwd: dir,
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim().split('\n')).toHaveLength(1);
  });
});
