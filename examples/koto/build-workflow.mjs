#!/usr/bin/env node
// KOTO-style Monte-Carlo ensemble, written with the @pegasus-ts/model builder API:
// N independent simulation jobs share the detector geometry and beam configuration, each with its
// own seed, then one merge job combines their outputs. Writes workflow.yml, sites.yml,
// transformations.yml, replicas.yml and pegasus.properties into the output directory, plus the
// two small shared input files the replica catalog points at.
//
// The executables are examples/koto/bin/koto-sim and koto-merge (small shell stand-ins that read
// their inputs and write deterministic results). --site picks where the jobs run: `slurm` (a site
// whose grid is a Slurm scheduler: clustered jobs become sbatch scripts) or `local` (this machine).
//
//   node examples/koto/build-workflow.mjs [--jobs N] [--out DIR] [--scratch DIR] [--site slurm|local]
//                                         [--cluster-size N] [--walltime MINUTES (Slurm allocations)]
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { api } from '@pegasus-ts/model';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20' },
    out: { type: 'string', default: 'koto-workflow' },
    scratch: { type: 'string' },
    site: { type: 'string', default: 'slurm' },
    'cluster-size': { type: 'string', default: '10' },
    walltime: { type: 'string' },
  },
});
const site = values.site;
if (site !== 'slurm' && site !== 'local') {
  console.error(`build-workflow: --site ${site} (expected slurm or local)`);
  process.exit(2);
}
const clusterSize = Number(values['cluster-size']);
const bin = resolve(dirname(fileURLToPath(import.meta.url)), 'bin');
const n = Number(values.jobs);
if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
  console.error(`build-workflow: --jobs ${values.jobs} (expected an integer from 1 to 1000000)`);
  process.exit(2);
}
const out = resolve(values.out);
const scratch = resolve(values.scratch ?? `${out}/scratch`);
await mkdir(`${out}/inputs`, { recursive: true });

// --- shared inputs ----------------------------------------------------------------------------
const geometry = new api.File('koto-geometry.gdml').addMetadata({ detector: 'KOTO', kind: 'geometry' });
const beam = new api.File('beam-config.json');
await writeFile(`${out}/inputs/koto-geometry.gdml`, '<gdml><!-- placeholder KOTO geometry --></gdml>\n');
await writeFile(`${out}/inputs/beam-config.json`, '{"particle": "KL", "momentumGeV": 2.1}\n');

const rc = new api.ReplicaCatalog()
  .addReplica('local', geometry, `file://${out}/inputs/koto-geometry.gdml`)
  .addReplica('local', beam, `file://${out}/inputs/beam-config.json`);

// --- executables ------------------------------------------------------------------------------
const simulate = new api.Transformation('koto-sim', {
  namespace: 'koto',
  version: '1.0',
  site,
  pfn: `${bin}/koto-sim`,
}).addPegasusProfile({ cores: 1, runtime: 600, 'clusters.size': clusterSize });
const merge = new api.Transformation('koto-merge', {
  namespace: 'koto',
  version: '1.0',
  site,
  pfn: `${bin}/koto-merge`,
}).addPegasusProfile({ runtime: 300 });
const tc = new api.TransformationCatalog().addTransformations(simulate, merge);

// --- sites: the submit host and a Slurm cluster --------------------------------------------------
const local = new api.Site('local', { arch: 'x86_64', osType: 'linux' })
  .addDirectories(
    new api.Directory(api.Directory.SHARED_SCRATCH, `${out}/local-scratch`).addFileServers(
      new api.FileServer(`file://${out}/local-scratch`, 'all'),
    ),
    new api.Directory(api.Directory.LOCAL_STORAGE, `${out}/outputs`).addFileServers(
      new api.FileServer(`file://${out}/outputs`, 'all'),
    ),
  )
  .addEnv({ PATH: '/usr/local/bin:/usr/bin:/bin' });
const slurm = new api.Site('slurm', { arch: 'x86_64', osType: 'linux' })
  .addGrids(new api.Grid('batch', 'localhost', 'slurm', { jobtype: 'compute' }))
  .addDirectories(
    new api.Directory(api.Directory.SHARED_SCRATCH, scratch, { sharedFileSystem: true }).addFileServers(
      new api.FileServer(`file://${scratch}`, 'all'),
    ),
  )
  .addPegasusProfile({
    style: 'glite',
    queue: 'debug',
    'data.configuration': 'sharedfs',
    'job.aggregator': 'mpiexec',
    ...(values.walltime ? { maxwalltime: Number(values.walltime) } : {}),
  })
  .addEnv({ KOTO_HOME: '/opt/koto' });
const sc = new api.SiteCatalog().addSites(local, slurm);

// --- the workflow -------------------------------------------------------------------------------
const wf = new api.Workflow('koto-mc')
  .addMetadata({ experiment: 'KOTO', events_per_job: 10000 })
  .addShellHook('error', '/bin/echo koto-mc failed');
const results = [];
for (let i = 0; i < n; i++) {
  const tag = String(i).padStart(5, '0');
  const result = new api.File(`sim-${tag}.root`);
  results.push(result);
  wf.addJobs(
    new api.Job(simulate, { id: `sim_${tag}`, nodeLabel: `simulate ${tag}` })
      .addArgs('--geometry', geometry, '--beam', beam, '--seed', 1000 + i, '--events', 10000, '-o', result)
      .addInputs(geometry, beam)
      .addOutputs([result], { stageOut: false, registerReplica: false })
      .addPegasusProfile({ label: 'mc' }),
  );
}
const merged = new api.File('koto-merged.root');
wf.addJobs(
  new api.Job(merge, { id: 'merge' })
    .addArgs('-o', merged, ...results)
    .addInputs(...results)
    .addOutputs([merged], { stageOut: true, registerReplica: true })
    .setStdout('merge.log'),
);
// data dependencies sim_* -> merge are inferred and written into jobDependencies
wf.validate({ replicaCatalog: rc, transformationCatalog: tc });

const props = new api.Properties()
  .set('pegasus.data.configuration', 'sharedfs')
  .set('pegasus.clusterer.job.aggregator', 'mpiexec')
  .set('pegasus.catalog.site.file', 'sites.yml')
  .set('pegasus.catalog.transformation.file', 'transformations.yml')
  .set('pegasus.catalog.replica.file', 'replicas.yml')
  .set('dagman.retry', 2)
  .set('dagman.maxjobs', 200);

await Promise.all([
  wf.write(`${out}/workflow.yml`),
  sc.write(`${out}/sites.yml`),
  tc.write(`${out}/transformations.yml`),
  rc.write(`${out}/replicas.yml`),
  props.write(`${out}/pegasus.properties`),
]);
console.log(
  `wrote ${out}/{workflow,sites,transformations,replicas}.yml and pegasus.properties (${n} simulations + 1 merge)`,
);
