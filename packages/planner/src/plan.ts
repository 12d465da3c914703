import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rmdir, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { BufferedWriter } from '@pegasus-ts/io';
import {
  type AbstractWorkflow,
  clusterDagPath,
  clusterSbatchPath,
  findSite,
  isOutputUse,
  type LoadedInputs,
  liteSpecPath,
  loadInputs,
  loadReplicaCatalog,
  loadWorkflow,
  ModelError,
  Properties,
  parseDefines,
  propertiesFromEnv,
  type ReplicaCatalog,
  ReplicaIndex,
  replicaCatalogToYaml,
  type Site,
  type SiteCatalog,
  SUBMIT_FILES,
  siteCatalogToYaml,
  transformationCatalogToYaml,
  WorkflowGraph,
} from '@pegasus-ts/model';
import { emitBraindump } from './emit/braindump.js';
import { emitClusterDag } from './emit/cluster-dag.js';
import { liteSpecOf, liteSpecText, runsInScratch, withLiteTasks } from './emit/lite-spec.js';
import { emitPlanYml } from './emit/plan-yml.js';
import { jobPriorities } from './emit/priorities.js';
import { emitSbatch, isSlurmSite } from './emit/sbatch.js';
import { PlanError, UsageError } from './errors.js';
import { addJob, auxJob, type ExecutableWorkflow } from './executable-workflow.js';
import { inputDirCatalog } from './input-dirs.js';
import { dedupeEdges } from './internal/graph.js';
import { addCleanup, type CleanupMode } from './passes/add-cleanup.js';
import { addCreateDirs, addDataMovement } from './passes/add-data-movement.js';
import { clusterHorizontal } from './passes/cluster-horizontal.js';
import { clusterLabel } from './passes/cluster-label.js';
import { mapJobs } from './passes/map-jobs.js';
import { reduceDataReuse } from './passes/reduce-data-reuse.js';
import { type SiteSelector, seededRandom } from './passes/select-sites.js';
import { checkSubWorkflows, type SubWorkflowSetup } from './passes/sub-workflows.js';
import type { PlanContext } from './planning-context.js';
import { createSubmitDir } from './submit-dir.js';

export type ClusterStyle = 'horizontal' | 'label' | 'whole';

/** pegasus-plan's options (names as on the command line). */
export interface PlanOptions {
  /** the abstract workflow (default ./workflow.yml) */
  workflow?: string;
  /** base submit dir (default: cwd) */
  dir?: string;
  /** the submit dir is exactly <dir>/<relativeDir>; also the remote work dir under each scratch */
  relativeDir?: string;
  sites?: string[];
  /** `s` (every execution site) or `e1=s1,e2=s2` entries */
  stagingSite?: string[];
  outputSites?: string[];
  /** outputs staged to site `local` go to this directory instead of its storage dir (implies `-o local`) */
  outputDir?: string;
  /** directories whose files are replicas on site `local` (lfn = path relative to the directory) */
  inputDirs?: string[];
  cleanup?: string;
  cluster?: string[];
  /** submit dirs of earlier runs whose output replica catalogs count for data reuse */
  reuse?: string[];
  force?: boolean;
  /** recorded for the caller: `pegasus-ts plan --submit` starts the engine on the new submit dir */
  submit?: boolean;
  /** properties file (default ./pegasus.properties when present) */
  conf?: string;
  /** -D key=value */
  defines?: string[];
  verbose?: number;
  quiet?: number;
  /** working directory for relative paths (default process.cwd()) */
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** user name in the submit dir path (default: the login name) */
  user?: string;
  /** seed for the random site selector (else pegasus.selector.site.seed, else Math.random) */
  seed?: number;
  /** progress/log lines (verbosity >= 1) */
  log?: (line: string) => void;
  /** command line, recorded in braindump.yml */
  argv?: string[];
}

export interface PlanResult {
  submitDir: string;
  planFile: string;
  jobs: number;
  edges: number;
  clusters: number;
  tasks: number;
  /** milliseconds per phase */
  timings: Record<string, number>;
}

/** Everything the in-memory pipeline needs (already loaded). */
export interface PipelineInput {
  workflow: AbstractWorkflow;
  ctx: PlanContext;
  cleanup: CleanupMode;
  cluster: ClusterStyle[];
  force: boolean;
  selector: SiteSelector;
  random?: () => number;
}

/** The in-memory pipeline: reduce > select sites > cluster > data movement > create-dir > cleanup. */
export function runPipeline(input: PipelineInput, timings: Record<string, number> = {}): ExecutableWorkflow {
  const { workflow: wf, ctx } = input;
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  const graph = new WorkflowGraph(wf, {
    dataDependencies: ctx.properties.getBoolean('pegasus.parser.dax.data.dependencies', true),
  });
  const order = graph.topologicalOrder();
  if (!order) throw new PlanError('the workflow has a dependency cycle (expected an acyclic graph)');
  const levels = new Int32Array(wf.jobs.length);
  for (const i of order)
    for (const c of graph.children[i]) if (levels[c] < levels[i] + 1) levels[c] = levels[i] + 1;
  lap('graph');
  const scope = (ctx.properties.get('pegasus.data.reuse.scope') ?? 'full') as 'full' | 'partial' | 'none';
  if (!['full', 'partial', 'none'].includes(scope)) {
    throw new PlanError(`pegasus.data.reuse.scope is "${scope}" (expected full, partial or none)`);
  }
  const reuse = reduceDataReuse(graph, (lfn) => ctx.replicas.has(lfn), input.force ? 'none' : scope);
  lap('reduce');
  const mapped = mapJobs(ctx, wf, graph, reuse.keep, levels, input.selector, input.random);
  lap('sites');
  let ex = mapped.workflow;
  const allowSingle = ctx.properties.getBoolean('pegasus.clusterer.allow.single', false);
  const labelKey = ctx.properties.get('pegasus.clusterer.label.key') ?? 'label';
  for (const style of input.cluster) {
    if (style === 'horizontal') ex = clusterHorizontal(ex, allowSingle);
    else ex = clusterLabel(ex, labelKey, style === 'whole', allowSingle);
  }
  lap('cluster');
  const reusedOutputs: { lfn: string; register: boolean }[] = [];
  for (const i of reuse.deleted) {
    for (const u of wf.jobs[i].uses)
      if (isOutputUse(u) && u.stageOut) reusedOutputs.push({ lfn: u.lfn, register: u.registerReplica });
  }
  addDataMovement(ctx, ex, {
    executableSources: mapped.executableSources,
    reusedOutputs,
    register: ctx.properties.getBoolean('pegasus.register', true),
  });
  addCreateDirs(ctx, ex);
  lap('data');
  const cnum = ctx.properties.get('pegasus.file.cleanup.clusters.num');
  const csize = ctx.properties.get('pegasus.file.cleanup.clusters.size');
  addCleanup(ctx, ex, input.cleanup, {
    clustersNum: cnum === undefined ? undefined : positiveProp('pegasus.file.cleanup.clusters.num', cnum),
    clustersSize: csize === undefined ? undefined : positiveProp('pegasus.file.cleanup.clusters.size', csize),
  });
  dedupeEdges(ex);
  if (ex.jobs.length === 0)
    addJob(ex, auxJob(`noop_${ctx.label}_0`, 'noop', 'local', 'pegasus::noop', ['true'], 0, 0));
  lap('cleanup');
  return ex;
}

function positiveProp(key: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PlanError(`${key} is "${v}" (expected an integer >= 1)`);
  return n;
}

function splitList(v: string[] | undefined): string[] {
  return (v ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Adds `local` when the catalog lacks it (scratch `<parent of dir>/wf-scratch/LOCAL`, storage `.../wf-output`). */
export function withLocalSite(sc: SiteCatalog | undefined, dir: string): SiteCatalog {
  const out: SiteCatalog = { ...(sc ?? {}), sites: [...(sc?.sites ?? [])] };
  if (!findSite(out, 'local')) {
    const base = dirname(resolve(dir));
    const scratch = join(base, 'wf-scratch', 'LOCAL');
    const storage = join(base, 'wf-output');
    const local: Site = {
      name: 'local',
      directories: [
        {
          type: 'sharedScratch',
          path: scratch,
          sharedFileSystem: false,
          fileServers: [{ url: `file://${scratch}`, operation: 'all', profiles: {} }],
        },
        {
          type: 'sharedStorage',
          path: storage,
          sharedFileSystem: false,
          fileServers: [{ url: `file://${storage}`, operation: 'all', profiles: {} }],
        },
      ],
      grids: [],
      profiles: {},
    };
    out.sites.push(local);
  }
  return out;
}

/**
 * `pegasus-ts plan`: loads the workflow, catalogs and properties, runs the pipeline and writes
 * the submit directory. Throws PlanError / UsageError (one line per problem) for user errors.
 * The steps: check the options, load properties, the catalogs of earlier runs (--reuse) and the
 * inputs; choose the sites and the pipeline's settings; make the submit dir; run the pipeline;
 * write the submit dir.
 */
export async function plan(options: PlanOptions): Promise<PlanResult> {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round(now - t0);
    t0 = now;
  };
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  const { cleanup, cluster } = checkPassOptions(options);
  const properties = await loadProperties(options, abs, env);
  const workflowPath = abs(options.workflow ?? 'workflow.yml');
  const reuseCatalogs = await loadReuseCatalogs(options, abs);
  const inputDirs = splitList(options.inputDirs).map(abs);
  if (inputDirs.length) reuseCatalogs.push(inputDirCatalog(inputDirs));
  const inputs = await loadWorkflowInputs(workflowPath, properties, reuseCatalogs, abs, env);
  lap('load');
  const wf = inputs.workflow;
  const dir = abs(options.dir ?? '.');
  const siteCatalog = withLocalSite(inputs.siteCatalog ?? wf.siteCatalog, dir);
  const sites = chooseSites(options, siteCatalog);
  const outputDir = options.outputDir === undefined ? undefined : abs(options.outputDir);
  if (outputDir !== undefined && !sites.outputSites.includes('local')) sites.outputSites.push('local');
  const settings = pipelineSettings(options, properties);
  const user = options.user ?? safeUser(env);
  // the earlier runs' outputs (--reuse) and the --input-dir listings count as replicas too
  const replicas = new ReplicaIndex([wf.replicaCatalog, inputs.replicaCatalog, ...reuseCatalogs]);
  const subWorkflowFiles = await checkSubWorkflows(
    wf,
    workflowPath,
    (lfn) => replicas.lookup(lfn),
    (file) => loadWorkflow(file).catch((e) => Promise.reject(modelToPlanError(e))),
  );
  const { submitDir, relativeDir } = await createSubmitDir(
    dir,
    user,
    wf.name,
    options.relativeDir,
    properties.getBoolean('pegasus.dir.useTimestamp', false) ? new Date() : undefined,
  );
  const ctx: PlanContext = {
    label: wf.name,
    relativeDir,
    siteCatalog,
    transformationCatalogs: inputs.transformationCatalog ? [inputs.transformationCatalog] : [],
    replicas,
    properties,
    ...sites,
    outputDir,
    defaultRetries: settings.defaultRetries,
    subWorkflows: subWorkflowSetup(subWorkflowFiles, dir, submitDir, inputs),
  };
  let ex: ExecutableWorkflow;
  try {
    ex = runPipeline(
      {
        workflow: wf,
        ctx,
        cleanup,
        cluster,
        force: options.force ?? false,
        selector: settings.selector,
        random: settings.random,
      },
      timings,
    );
  } catch (e) {
    // a plan that fails leaves no empty run dir behind (one given by --relative-dir stays)
    if (options.relativeDir === undefined) await rmdir(submitDir).catch(() => {});
    throw e;
  }
  t0 = performance.now();
  const written = await writeSubmitDir(ex, {
    submitDir,
    relativeDir,
    label: wf.name,
    workflowFile: workflowPath,
    workflowVersion: wf.pegasus,
    baseDir: dir,
    user,
    properties,
    siteCatalog,
    inputs,
    argv: options.argv ?? [],
  });
  lap('emit');
  const result: PlanResult = {
    submitDir,
    planFile: join(submitDir, SUBMIT_FILES.plan),
    jobs: ex.jobs.length,
    edges: ex.edgeFrom.length,
    clusters: written.clusters,
    tasks: written.tasks,
    timings,
  };
  options.log?.(
    `planned ${result.jobs} jobs (${result.clusters} clusters of ${result.tasks} tasks), ${result.edges} edges`,
  );
  return result;
}

type AbsolutePath = (p: string) => string;

function modelToPlanError(e: unknown): unknown {
  return e instanceof ModelError ? PlanError.fromModel(e) : e;
}

/** What sub-workflows are planned with: the catalogs writeSubmitDir puts in the parent's submit dir. */
function subWorkflowSetup(
  files: ReadonlyMap<string, string>,
  baseDir: string,
  submitDir: string,
  inputs: LoadedInputs,
): SubWorkflowSetup | undefined {
  if (files.size === 0) return undefined;
  const cat = join(submitDir, SUBMIT_FILES.catalogs);
  const wf = inputs.workflow;
  return {
    files,
    baseDir,
    submitDir,
    catalogs: {
      site: join(cat, 'sites.yml'),
      transformation:
        (inputs.transformationCatalog ?? wf.transformationCatalog) && join(cat, 'transformations.yml'),
      replica: (inputs.replicaCatalog ?? wf.replicaCatalog) && join(cat, 'replicas.yml'),
    },
  };
}

/** --cleanup and --cluster, checked. */
function checkPassOptions(options: PlanOptions): { cleanup: CleanupMode; cluster: ClusterStyle[] } {
  const cleanup = options.cleanup ?? 'inplace';
  if (!['none', 'inplace', 'leaf'].includes(cleanup)) {
    throw new UsageError(`--cleanup ${cleanup} (expected none, inplace or leaf)`);
  }
  const cluster = splitList(options.cluster);
  for (const c of cluster) {
    if (c !== 'horizontal' && c !== 'label' && c !== 'whole') {
      throw new UsageError(`--cluster ${c} (expected horizontal, label or whole)`);
    }
  }
  return { cleanup: cleanup as CleanupMode, cluster: cluster as ClusterStyle[] };
}

/** The properties: --conf (else ./pegasus.properties) < environment < -D. */
async function loadProperties(
  options: PlanOptions,
  abs: AbsolutePath,
  env: Record<string, string | undefined>,
): Promise<Properties> {
  try {
    const confPath = options.conf
      ? abs(options.conf)
      : existsSync(abs('pegasus.properties'))
        ? abs('pegasus.properties')
        : undefined;
    const properties = confPath ? await Properties.load(confPath) : new Properties();
    properties.merge(propertiesFromEnv(env));
    properties.merge(parseDefines(options.defines ?? []));
    return properties;
  } catch (e) {
    if (e instanceof ModelError) throw PlanError.fromModel(e);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`--conf ${options.conf}: no such file`);
    throw e;
  }
}

/** The output catalogs of earlier runs (--reuse DIR: DIR/output-replicas.yml). */
async function loadReuseCatalogs(options: PlanOptions, abs: AbsolutePath): Promise<ReplicaCatalog[]> {
  const catalogs: ReplicaCatalog[] = [];
  for (const d of splitList(options.reuse)) {
    const f = join(abs(d), SUBMIT_FILES.outputReplicas);
    if (!existsSync(f))
      throw new UsageError(
        `--reuse ${d}: no output-replicas.yml there (expected a submit dir of an earlier run)`,
      );
    try {
      catalogs.push(await loadReplicaCatalog(f));
    } catch (e) {
      if (e instanceof ModelError) throw PlanError.fromModel(e);
      throw e;
    }
  }
  return catalogs;
}

/**
 * The workflow and its catalogs (paths from pegasus.catalog.KIND.file, else sites.yml,
 * transformations.yml, replicas.yml when present); files in the reused catalogs count as known
 * inputs.
 */
async function loadWorkflowInputs(
  workflowPath: string,
  properties: Properties,
  reuseCatalogs: readonly ReplicaCatalog[],
  abs: AbsolutePath,
  env: Record<string, string | undefined>,
): Promise<LoadedInputs> {
  const catalogPath = (kind: string, dflt: string): string | undefined => {
    const p = properties.get(`pegasus.catalog.${kind}.file`);
    if (p) return abs(p);
    return existsSync(abs(dflt)) ? abs(dflt) : undefined;
  };
  const known = new Set<string>();
  for (const rc of reuseCatalogs) for (const r of rc.replicas) known.add(r.lfn);
  const paths = {
    workflow: workflowPath,
    sites: catalogPath('site', 'sites.yml'),
    transformations: catalogPath('transformation', 'transformations.yml'),
    replicas: catalogPath('replica', 'replicas.yml'),
  };
  try {
    return await loadInputs(paths, { env, knownInputs: known });
  } catch (e) {
    if (e instanceof ModelError) throw PlanError.fromModel(e);
    throw e;
  }
}

/** --sites (default: `compute`, else every site but local, else local), --output-sites and --staging-site, checked against the site catalog. */
function chooseSites(
  options: PlanOptions,
  siteCatalog: SiteCatalog,
): Pick<PlanContext, 'executionSites' | 'outputSites' | 'stagingSites'> {
  const siteNames = siteCatalog.sites.map((s) => s.name);
  let executionSites = splitList(options.sites);
  if (executionSites.length === 0) {
    executionSites = siteNames.includes('compute') ? ['compute'] : siteNames.filter((s) => s !== 'local');
    if (executionSites.length === 0) executionSites = ['local'];
  }
  for (const s of executionSites) {
    if (!siteNames.includes(s))
      throw new UsageError(
        `--sites ${s}: no such site in the site catalog (expected one of: ${siteNames.join(', ')})`,
      );
  }
  const outputSites = splitList(options.outputSites);
  for (const s of outputSites) {
    if (!siteNames.includes(s))
      throw new UsageError(
        `--output-sites ${s}: no such site in the site catalog (expected one of: ${siteNames.join(', ')})`,
      );
  }
  const stagingSites = new Map<string, string>();
  for (const entry of splitList(options.stagingSite)) {
    const eq = entry.indexOf('=');
    const [e, s] = eq < 0 ? ['*', entry] : [entry.slice(0, eq), entry.slice(eq + 1)];
    if (!siteNames.includes(s))
      throw new UsageError(
        `--staging-site ${entry}: no such site "${s}" (expected a site of the site catalog)`,
      );
    stagingSites.set(e, s);
  }
  return { executionSites, outputSites, stagingSites };
}

/** dagman.retry, pegasus.selector.site and its seed (--seed wins over the property), checked. */
function pipelineSettings(
  options: PlanOptions,
  properties: Properties,
): { defaultRetries: number; selector: SiteSelector; random: (() => number) | undefined } {
  const retryRaw = properties.get('dagman.retry') ?? '1';
  const defaultRetries = Number(retryRaw);
  if (!Number.isInteger(defaultRetries) || defaultRetries < 0) {
    throw new PlanError(`dagman.retry is "${retryRaw}" (expected an integer >= 0)`);
  }
  const selectorName = (properties.get('pegasus.selector.site') ?? 'Random').toLowerCase();
  if (selectorName !== 'random' && selectorName !== 'roundrobin') {
    throw new PlanError(`pegasus.selector.site is "${selectorName}" (expected Random or RoundRobin)`);
  }
  const seedProp = properties.get('pegasus.selector.site.seed');
  const seed = options.seed ?? (seedProp === undefined ? undefined : Number(seedProp));
  return {
    defaultRetries,
    selector: selectorName === 'roundrobin' ? 'round-robin' : 'random',
    random: seed === undefined || !Number.isFinite(seed) ? undefined : seededRandom(seed),
  };
}

function safeUser(env: Record<string, string | undefined>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'user';
  }
}

export interface WriteOptions {
  submitDir: string;
  relativeDir: string;
  label: string;
  workflowFile: string;
  workflowVersion: string;
  baseDir: string;
  user: string;
  properties: Properties;
  siteCatalog: SiteCatalog;
  inputs?: Partial<LoadedInputs>;
  argv?: string[];
  wfUuid?: string;
  now?: Date;
}

/** Pegasus timestamps: `20230303T222333-0800`. */
export function pegasusTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/** Writes plan.yml, clusters/*.dag (+ .sbatch for Slurm sites), braindump.yml, pegasus.properties and catalogs/. */
/** `lite/NAME.json` for every compute job and clustered task run in a scratch dir of its own. */
async function writeLiteSpecs(ex: ExecutableWorkflow, submitDir: string): Promise<void> {
  let made = false;
  for (const j of ex.jobs) {
    for (const t of j.kind === 'cluster' ? (j.tasks ?? []) : [j]) {
      if (!runsInScratch(t)) continue;
      if (!made) await mkdir(join(submitDir, SUBMIT_FILES.lite), { recursive: true });
      made = true;
      await writeFile(join(submitDir, liteSpecPath(t.name)), liteSpecText(liteSpecOf(t)));
    }
  }
}

export async function writeSubmitDir(
  ex: ExecutableWorkflow,
  o: WriteOptions,
): Promise<{ clusters: number; tasks: number }> {
  const wfUuid = o.wfUuid ?? randomUUID();
  const timestamp = pegasusTimestamp(o.now ?? new Date());
  await mkdir(join(o.submitDir, SUBMIT_FILES.clusters), { recursive: true });
  await mkdir(join(o.submitDir, SUBMIT_FILES.catalogs), { recursive: true });
  let clusters = 0;
  let tasks = 0;
  const sbatch = new Set<string>();
  await writeLiteSpecs(ex, o.submitDir);
  for (const j of ex.jobs) {
    if (j.kind !== 'cluster') continue;
    clusters++;
    tasks += j.tasks?.length ?? 0;
    const sink = BufferedWriter.truncate(join(o.submitDir, clusterDagPath(j.name)));
    emitClusterDag(withLiteTasks(j, o.submitDir), (s) => sink.write(s));
    sink.close();
    const site = findSite(o.siteCatalog, j.site);
    if (site && isSlurmSite(site)) {
      await writeFile(
        join(o.submitDir, clusterSbatchPath(j.name)),
        emitSbatch(j, site, { submitDir: o.submitDir }),
        { mode: 0o755 },
      );
      sbatch.add(j.name);
    }
  }
  const priorities = jobPriorities(ex);
  const sink = BufferedWriter.truncate(join(o.submitDir, SUBMIT_FILES.plan));
  emitPlanYml(
    ex,
    {
      label: o.label,
      wfUuid,
      submitDir: o.submitDir,
      relativeDir: o.relativeDir,
      workflow: o.workflowFile,
      timestamp,
    },
    priorities,
    sbatch,
    (s) => sink.write(s),
  );
  sink.close();
  await o.properties.write(join(o.submitDir, 'pegasus.properties'));
  const cat = join(o.submitDir, SUBMIT_FILES.catalogs);
  await writeFile(join(cat, 'sites.yml'), siteCatalogToYaml(o.siteCatalog));
  const wf = o.inputs?.workflow;
  const tc = o.inputs?.transformationCatalog ?? wf?.transformationCatalog;
  if (tc) await writeFile(join(cat, 'transformations.yml'), transformationCatalogToYaml(tc));
  const rc = o.inputs?.replicaCatalog ?? wf?.replicaCatalog;
  if (rc) await writeFile(join(cat, 'replicas.yml'), replicaCatalogToYaml(rc));
  if (existsSync(o.workflowFile)) await copyFile(o.workflowFile, join(cat, 'workflow.yml'));
  await writeFile(
    join(o.submitDir, SUBMIT_FILES.braindump),
    emitBraindump({
      user: o.user,
      submit_hostname: hostname(),
      root_wf_uuid: wfUuid,
      wf_uuid: wfUuid,
      dax: o.workflowFile,
      dax_label: o.label,
      dax_index: '0',
      dax_version: o.workflowVersion,
      pegasus_wf_name: `${o.label}-0`,
      timestamp,
      basedir: o.baseDir,
      submit_dir: o.submitDir,
      planner: 'pegasus-ts plan',
      planner_version: '0.1.0',
      planner_arguments: (o.argv ?? []).join(' '),
      jsd: SUBMIT_FILES.jobstate,
      rundir: o.relativeDir.split('/').pop() ?? o.relativeDir,
      vogroup: 'pegasus',
      uses_pmc: clusters > 0 ? 'true' : 'false',
      properties: 'pegasus.properties',
      plan: SUBMIT_FILES.plan,
      output_replicas: SUBMIT_FILES.outputReplicas,
      type: 'pegasus-ts',
    }),
  );
  return { clusters, tasks };
}
