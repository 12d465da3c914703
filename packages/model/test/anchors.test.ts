import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReplicaCatalog, parseReplicaCatalog } from '../src/load-replica-catalog.js';
import { loadSiteCatalog, parseSiteCatalog } from '../src/load-site-catalog.js';
import { loadTransformationCatalog, parseTransformationCatalog } from '../src/load-transformation-catalog.js';
import { loadWorkflow, parseWorkflow } from '../src/load-workflow.js';
import { locationOf } from '../src/location.js';
import { getProfile } from '../src/profiles.js';
import { ReplicaIndex } from '../src/replica-catalog.js';
import { WorkflowGraph } from '../src/workflow-graph.js';
import { replicaCatalogToYaml, writeReplicaCatalog } from '../src/write-replica-catalog.js';
import { siteCatalogToYaml, writeSiteCatalog } from '../src/write-site-catalog.js';
import {
  transformationCatalogToYaml,
  writeTransformationCatalog,
} from '../src/write-transformation-catalog.js';
import { workflowToYaml, writeWorkflow } from '../src/write-workflow.js';
import { ANCHORS, schemaErrors } from './schemas.js';

const WF = join(ANCHORS, '01-reference-diamond-inline-catalogs/workflow.yml');
const SC = join(ANCHORS, '02-reference-catalogs/sites.yml');
const TC = join(ANCHORS, '02-reference-catalogs/transformations.yml');
const RC = join(ANCHORS, '02-reference-catalogs/replicas.yml');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-anchors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the anchors validate against the schemas (sanity of the ajv set-up)', () => {
  it.each([
    ['wf', WF],
    ['sc', SC],
    ['tc', TC],
    ['rc', RC],
  ] as const)('%s %s', async (kind, file) => {
    expect(schemaErrors(kind, await readFile(file, 'utf8'))).toEqual([]);
  });
  it('and ajv rejects a broken document (the check can fail)', () => {
    expect(schemaErrors('wf', 'pegasus: 5.0\nname: x\njobs: []\n').length).toBeGreaterThan(0);
  });
});

describe('reference diamond workflow with inline catalogs', () => {
  it('loads every field', async () => {
    const wf = await loadWorkflow(WF);
    expect(wf.name).toBe('diamond');
    expect(wf.pegasus).toBe('5.0');
    expect(wf.siteCatalogRef).toBe('https://pegasus.isi.edu/hosted/site/catalog');
    expect(wf.hooks?.shell[0].on).toBe('error');
    expect(wf.profiles.env?.JAVA_HOME).toBe('/opt/java/1.6');
    expect(wf.metadata).toEqual({ createdBy: 'ryan' });
    expect(wf.jobs.map((j) => j.id)).toEqual(['ID000001', 'ID000002', 'ID000003', 'ID000004']);
    const j1 = wf.jobs[0];
    expect(j1.type === 'job' && [j1.namespace, j1.name, j1.version]).toEqual([
      'diamond',
      'preprocess',
      '2.0',
    ]);
    expect(j1.stdin).toBe('stdin_file.txt');
    expect(j1.arguments).toEqual([
      '-a',
      'preprocess',
      '-T60',
      '-i',
      'f.a',
      '-o',
      'f.b1',
      'f.b2',
      '-nums',
      1,
      1.1,
    ]);
    const b1 = j1.uses.find((u) => u.lfn === 'f.b1');
    expect(b1).toMatchObject({
      type: 'output',
      stageOut: true,
      registerReplica: false,
      metadata: { size: '2048' },
    });
    expect(wf.replicaCatalog?.replicas[0].pfns[0].site).toBe('local');
    const tc = wf.transformationCatalog;
    expect(tc?.transformations[0].sites[0]).toMatchObject({
      osType: 'linux',
      osVersion: '4',
      container: 'centos-pegasus',
    });
    expect(getProfile(tc?.transformations[0].sites[0].profiles, 'condor', 'FOO')).toBe('bar');
    expect(tc?.containers[0]).toMatchObject({
      type: 'docker',
      mounts: ['/Volumes/Work/lfs1:/shared-data/:ro'],
    });
    expect(wf.dependencies).toHaveLength(3);
  });

  it('builds the graph with explicit and inferred edges', async () => {
    const wf = await loadWorkflow(WF);
    const g = new WorkflowGraph(wf);
    expect(g.childrenOf('ID000001').map((j) => j.id)).toEqual(['ID000002', 'ID000003']);
    expect(g.parentsOf('ID000004').map((j) => j.id)).toEqual(['ID000002', 'ID000003']);
    expect(g.topologicalOrder()?.map((i) => wf.jobs[i].id)).toEqual([
      'ID000001',
      'ID000002',
      'ID000003',
      'ID000004',
    ]);
    expect([...g.rawInputs().keys()].sort()).toEqual(['f.a', 'stdin_file.txt']);
    // without jobDependencies the same edges come from the data flow
    const g2 = new WorkflowGraph({ ...wf, dependencies: [] });
    expect([...g2.edges()].map(([p, c, k]) => `${p}>${c}:${k}`).sort()).toEqual([
      'ID000001>ID000002:data',
      'ID000001>ID000003:data',
      'ID000002>ID000004:data',
      'ID000003>ID000004:data',
    ]);
  });

  it('remembers where each object was written', async () => {
    const wf = await loadWorkflow(WF);
    expect(locationOf(wf.jobs[1])).toEqual({ file: WF, line: 111, column: 5 });
    expect(locationOf(wf.jobs[1], 'name')).toEqual({ file: WF, line: 113, column: 5 });
  });

  it('round trips (load -> write -> load gives the same model) and the output validates', async () => {
    const wf = await loadWorkflow(WF);
    const out = join(dir, 'workflow.yml');
    await writeWorkflow(wf, out);
    const text = await readFile(out, 'utf8');
    expect(schemaErrors('wf', text)).toEqual([]);
    expect(await loadWorkflow(out)).toEqual(wf);
    expect(workflowToYaml(parseWorkflow(text))).toBe(text);
  });
});

describe('reference catalogs', () => {
  it('site catalog loads, round trips and validates', async () => {
    const sc = await loadSiteCatalog(SC);
    expect(sc.sites.map((s) => s.name)).toEqual(['local', 'condor_pool', 'staging_site']);
    expect(sc.sites[1].grids[1]).toMatchObject({ type: 'gt5', scheduler: 'pbs', jobtype: 'compute' });
    expect(sc.sites[2].directories[0].fileServers.map((f) => f.operation)).toEqual(['put', 'get']);
    expect(sc.sites[0].profiles.env).toEqual({ PATH: '/usr/bin:/bin' }); // x-ext dropped
    const out = join(dir, 'sites.yml');
    await writeSiteCatalog(sc, out);
    expect(schemaErrors('sc', await readFile(out, 'utf8'))).toEqual([]);
    expect(await loadSiteCatalog(out)).toEqual(sc);
    expect(parseSiteCatalog(siteCatalogToYaml(sc))).toEqual(sc);
  });

  it('transformation catalog loads, round trips and validates', async () => {
    const tc = await loadTransformationCatalog(TC);
    expect(tc.transformations[0]).toMatchObject({
      name: 'foo',
      requires: ['bar'],
      metadata: { size: '2048' },
    });
    expect(tc.transformations[0].hooks?.shell[0]).toEqual({ on: 'start', cmd: "/bin/echo 'starting''" });
    expect(tc.transformations[0].profiles.dagman).toEqual({ retry: 2 });
    const out = join(dir, 'transformations.yml');
    await writeTransformationCatalog(tc, out);
    expect(schemaErrors('tc', await readFile(out, 'utf8'))).toEqual([]);
    expect(await loadTransformationCatalog(out)).toEqual(tc);
    expect(parseTransformationCatalog(transformationCatalogToYaml(tc))).toEqual(tc);
  });

  it('replica catalog loads (regex entries too), round trips and validates', async () => {
    const rc = await loadReplicaCatalog(RC);
    expect(rc.replicas.map((r) => r.regex)).toEqual([false, true]);
    const index = new ReplicaIndex([rc]);
    expect(index.lookup('f.a')?.[0].pfns[0].pfn).toBe('file:///Volumes/data/input/f.a');
    expect(index.lookup('f0a')?.[0].replica.regex).toBe(true);
    expect(index.has('fxa')).toBe(true);
    expect(index.has('fab')).toBe(false);
    expect(index.has('f.ab')).toBe(false);
    const out = join(dir, 'replicas.yml');
    await writeReplicaCatalog(rc, out);
    expect(schemaErrors('rc', await readFile(out, 'utf8'))).toEqual([]);
    expect(await loadReplicaCatalog(out)).toEqual(rc);
    expect(parseReplicaCatalog(replicaCatalogToYaml(rc))).toEqual(rc);
  });

  it('regex PFNs substitute [0] and [n]', () => {
    const rc = parseReplicaCatalog(
      'pegasus: "5.0"\nreplicas:\n  - lfn: "data\\\\.(csv|txt)"\n    regex: true\n    pfns: [{site: local, pfn: "file:///in/[1]/[0]"}]\n',
    );
    expect(new ReplicaIndex([rc]).lookup('data.csv')?.[0].pfns[0].pfn).toBe('file:///in/csv/data.csv');
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${VAR} syntax is under test
  it('expands ${VAR} in catalogs and reports undefined variables', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${VAR} syntax is under test
    const text = 'pegasus: "5.0"\nreplicas:\n  - lfn: a\n    pfns: [{site: local, pfn: "${ROOT}/a"}]\n';
    expect(parseReplicaCatalog(text, 'r.yml', { env: { ROOT: '/data' } }).replicas[0].pfns[0].pfn).toBe(
      '/data/a',
    );
    expect(() => parseReplicaCatalog(text, 'r.yml', { env: {} })).toThrow(
      /^r\.yml:4:31: undefined environment variable \$\{ROOT\}/,
    );
  });
});
