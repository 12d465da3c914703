import { basename } from 'node:path';
import {
  type AbstractWorkflow,
  argumentString,
  findContainer,
  findDirectory,
  findSite,
  findTransformations,
  formatTransformationRef,
  getProfile,
  isInputUse,
  isOutputUse,
  type Job,
  jobTransformation,
  locationOf,
  mergeProfiles,
  type Profiles,
  type TransformationSite,
  type WorkflowGraph,
} from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import { addEdge, type ExecJob, type ExecutableWorkflow, emptyWorkflow } from '../executable-workflow.js';
import { type DataConfiguration, type PlanContext, stagingSiteFor, workDirOf } from '../planning-context.js';
import { containerArgv, containerImageFile } from './containers.js';
import { type SiteSelector, selectSites } from './select-sites.js';
import { subWorkflowExecJob } from './sub-workflows.js';

/** Where a job was written, for errors: `FILE:LINE:COL: job "id"` (or `job "id"`). */
export function describeJob(job: Job): string {
  const at = locationOf(job);
  return at ? `${at.file}:${at.line}:${at.column}: job "${job.id}"` : `job "${job.id}"`;
}

export interface MapJobsResult {
  workflow: ExecutableWorkflow;
  /** stageable executables: lfn -> source URL (staged like raw inputs) */
  executableSources: Map<string, { site: string; url: string }>;
}

/**
 * Site selection plus job mapping: every kept abstract job becomes a compute ExecJob on its
 * execution site, with its merged profiles (TC > SC > job > workflow > properties; the job's
 * own `selector` keys win), executable (TC installed PFN, a stageable one staged into the work
 * dir, or `selector.pfn`), data configuration, staging site, work directory and retries.
 * Sub-workflow jobs run on `local` (passes/sub-workflows.ts).
 * Edges between kept jobs are carried over. `levels[i]`: depth of abstract job i (roots = 0).
 */
export function mapJobs(
  ctx: PlanContext,
  wf: AbstractWorkflow,
  graph: WorkflowGraph,
  keep: Uint8Array,
  levels: Int32Array,
  selector: SiteSelector,
  random?: () => number,
): MapJobsResult {
  const tcs = [wf.transformationCatalog, ...ctx.transformationCatalogs].filter((t) => t !== undefined);
  const kept: number[] = [];
  for (let i = 0; i < wf.jobs.length; i++) if (keep[i]) kept.push(i);
  const { installed: useInstalled, staged: useStaged } = transformationSelector(ctx);
  // candidate sites per transformation (cached)
  const candCache = new Map<string, string[]>();
  const candidates = (job: Job): string[] => {
    if (job.type !== 'job') return ['local'];
    if (getProfile(job.profiles, 'selector', 'pfn') !== undefined) return ctx.executionSites;
    const ref = jobTransformation(job);
    const key = formatTransformationRef(ref);
    let c = candCache.get(key);
    if (!c) {
      const entries = findTransformations(tcs, ref);
      if (entries.length === 0) {
        throw new PlanError(
          `${describeJob(job)}: unknown transformation "${key}" (expected an entry in the transformation catalog)`,
        );
      }
      const stageable = useStaged && entries.some((t) => t.sites.some((s) => s.type === 'stageable'));
      c = ctx.executionSites.filter(
        (site) =>
          stageable ||
          (useInstalled &&
            entries.some((t) => t.sites.some((s) => s.name === site && s.type === 'installed'))),
      );
      candCache.set(key, c);
    }
    return c;
  };
  const sites = selectSites(
    {
      count: kept.length,
      candidates: (k) => candidates(wf.jobs[kept[k]]),
      pinned: (k) => {
        if (wf.jobs[kept[k]].type !== 'job') return 'local';
        const v = getProfile(wf.jobs[kept[k]].profiles, 'selector', 'execution.site');
        return v === undefined ? undefined : String(v);
      },
      level: (k) => levels[kept[k]],
      describe: (k) => describeJob(wf.jobs[kept[k]]),
    },
    selector,
    random,
  );

  const propProfiles = ctx.properties.profiles();
  const baseProfiles = mergeProfiles(propProfiles, wf.profiles, 'replace');
  const profileCache = new Map<string, Profiles>();
  const emptyProfilesKey = '{}';
  const out = emptyWorkflow(wf.name);
  const executableSources = new Map<string, { site: string; url: string }>();
  const newIndex = new Int32Array(wf.jobs.length).fill(-1);

  // files jobs of this workflow write: a sub-workflow's inputs among them come from the parent
  let produced: Set<string> | undefined;
  for (let k = 0; k < kept.length; k++) {
    const i = kept[k];
    if (wf.jobs[i].type !== 'job') {
      produced ??= new Set(wf.jobs.flatMap((j) => j.uses.filter((u) => isOutputUse(u)).map((u) => u.lfn)));
      newIndex[i] = out.jobs.length;
      out.jobs.push(subWorkflowExecJob(ctx, wf.jobs[i], levels[i], ctx.subWorkflows, produced));
      continue;
    }
    const job = wf.jobs[i] as Job & { type: 'job' };
    const site = sites[k];
    const ref = jobTransformation(job);
    const trKey = formatTransformationRef(ref);
    const pinnedPfn = getProfile(job.profiles, 'selector', 'pfn');
    let tsite: TransformationSite | undefined;
    let tprofiles: Profiles | undefined;
    let tcOfSite: (typeof tcs)[number] | undefined;
    if (pinnedPfn === undefined) {
      const allowed = (x: TransformationSite): boolean => (x.type === 'installed' ? useInstalled : useStaged);
      for (const tc of tcs) {
        if (tsite) break;
        for (const t of findTransformations([tc], ref)) {
          const s =
            t.sites.find((x) => x.name === site && x.type === 'installed' && useInstalled) ??
            t.sites.find((x) => x.name === site && allowed(x)) ??
            t.sites.find((x) => x.type === 'stageable' && useStaged);
          if (s) {
            tsite = s;
            tprofiles = mergeProfiles(t.profiles, s.profiles, 'replace');
            tcOfSite = tc;
            break;
          }
        }
      }
    }
    const jobKey = Object.keys(job.profiles).length === 0 ? emptyProfilesKey : JSON.stringify(job.profiles);
    const cacheKey = `${site}\0${trKey}\0${tsite?.pfn ?? ''}\0${jobKey}`;
    let profiles = profileCache.get(cacheKey);
    if (!profiles) {
      const siteProfiles = findSite(ctx.siteCatalog, site)?.profiles;
      let p = mergeProfiles(job.profiles, siteProfiles, 'replace');
      if (tprofiles) p = mergeProfiles(p, tprofiles, 'replace');
      if (job.profiles.selector) p = mergeProfiles(p, { selector: job.profiles.selector }, 'replace');
      p = mergeProfiles(p, baseProfiles, 'fill');
      profiles = p;
      profileCache.set(cacheKey, p);
    }
    const config = dataConfiguration(profiles, job);
    const staging = stagingSiteFor(ctx, site, config);
    const work = workDirOf(ctx, staging);
    const container = tsite?.container === undefined ? undefined : findContainer(tcOfSite, tsite.container);
    // nonsharedfs and condorio: the job runs in a scratch dir of its own (a lite job); a condorio
    // job in a container still runs on the submit host's work dir, which the container mounts
    const inScratch = config === 'nonsharedfs' || (config === 'condorio' && !container);
    let exe: string;
    const inputs: string[] = [];
    if (pinnedPfn !== undefined) exe = String(pinnedPfn);
    else if (tsite && tsite.type === 'installed') exe = tsite.pfn;
    else if (tsite) {
      const lfn = `${ref.namespace ? `${ref.namespace}-` : ''}${ref.name}${ref.version ? `-${ref.version}` : ''}`;
      executableSources.set(lfn, { site: tsite.name, url: tsite.pfn });
      inputs.push(lfn);
      // without a shared filesystem the executable is staged into the job's scratch dir
      exe = inScratch ? `./${lfn}` : `${work.path}/${lfn}`;
    } else {
      throw new PlanError(`${describeJob(job)}: no entry of "${trKey}" for site "${site}" (expected one)`);
    }
    const args = argumentString(job);
    let argv = args === '' ? [exe] : [exe, ...args.split(/\s+/)];
    // A container (the catalog entry's `container`): the command runs inside it, on the host's work dir.
    if (container) {
      // An image file (`file://`) is staged to the job like a stageable executable, from its
      // `image.site` (default local); with `bypass` the job uses it where it is.
      let imagePath = containerImageFile(container);
      if (imagePath !== undefined && !container.bypass) {
        const lfn = basename(imagePath);
        executableSources.set(lfn, { site: container.imageSite ?? 'local', url: container.image });
        if (!inputs.includes(lfn)) inputs.push(lfn);
        imagePath = config === 'nonsharedfs' ? `./${lfn}` : `${work.path}/${lfn}`;
      }
      argv = containerArgv(container, argv, {
        workDir: work.path,
        cwd: config === 'sharedfs' ? work.path : undefined,
        profiles,
        describe: describeJob(job),
        imagePath,
      });
    }
    const outputs: string[] = [];
    let stageOut: string[] | undefined;
    let register: string[] | undefined;
    let bypass: string[] | undefined;
    let checkpoints: string[] | undefined;
    for (const u of job.uses) {
      if (u.forPlanning) continue;
      if (isInputUse(u) && u.type !== 'checkpoint') {
        inputs.push(u.lfn);
        if (u.bypass) {
          bypass ??= [];
          bypass.push(u.lfn);
        }
      }
      if (u.type === 'checkpoint') {
        checkpoints ??= [];
        checkpoints.push(u.lfn);
      }
      if (isOutputUse(u)) {
        outputs.push(u.lfn);
        if (u.stageOut) {
          stageOut ??= [];
          stageOut.push(u.lfn);
        }
        if (u.registerReplica) {
          register ??= [];
          register.push(u.lfn);
        }
      }
    }
    const retry = getProfile(profiles, 'dagman', 'RETRY');
    const retries = retry === undefined ? ctx.defaultRetries : Number(retry);
    if (!Number.isInteger(retries) || retries < 0) {
      throw new PlanError(`${describeJob(job)}: dagman RETRY is ${retry} (expected an integer >= 0)`);
    }
    const ej: ExecJob = {
      name: job.id,
      kind: 'compute',
      site,
      transformation: trKey,
      argv,
      abstractId: job.id,
      stagingSite: staging,
      directory: config === 'sharedfs' ? work.path : undefined,
      // how the engine runs the job: as a lite job (nonsharedfs, condorio) or in place
      dataConfiguration: config === 'condorio' && !inScratch ? undefined : config,
      stagingUrl: inScratch ? work.url : undefined,
      scratchRoot: inScratch ? localScratchOf(ctx, site) : undefined,
      bypass,
      checkpoints,
      links:
        config === 'nonsharedfs' && ctx.properties.getBoolean('pegasus.transfer.links', false)
          ? true
          : undefined,
      inputs,
      outputs,
      stageOut,
      register,
      stdin: job.stdin,
      stdout: job.stdout,
      stderr: job.stderr,
      profiles,
      retries,
      level: levels[i],
    };
    const prio = getProfile(profiles, 'condor', 'priority');
    if (prio !== undefined) ej.priority = Number(prio);
    newIndex[i] = out.jobs.length;
    out.jobs.push(ej);
  }
  for (const i of kept) {
    for (const c of graph.children[i]) if (keep[c]) addEdge(out, newIndex[i], newIndex[c]);
  }
  return { workflow: out, executableSources };
}

/**
 * `pegasus.transformation.selector`: which transformation catalog entries may run a job,
 * `Installed` (installed on the site), `Staged` (stageable ones, staged to the job) or `All`
 * (the default: an installed entry on the site first, else a stageable one).
 */
function transformationSelector(ctx: PlanContext): { installed: boolean; staged: boolean } {
  const v = ctx.properties.get('pegasus.transformation.selector') ?? 'All';
  if (v === 'All') return { installed: true, staged: true };
  if (v === 'Installed') return { installed: true, staged: false };
  if (v === 'Staged') return { installed: false, staged: true };
  throw new PlanError(`pegasus.transformation.selector is "${v}" (expected Installed, Staged or All)`);
}

/** The localScratch path of an execution site (where lite jobs make their scratch dirs), if it has one. */
function localScratchOf(ctx: PlanContext, site: string): string | undefined {
  const s = findSite(ctx.siteCatalog, site);
  return s ? findDirectory(s, 'localScratch')?.path : undefined;
}

function dataConfiguration(p: Profiles, job: Job): DataConfiguration {
  const v = String(getProfile(p, 'pegasus', 'data.configuration') ?? 'condorio');
  if (v === 'sharedfs' || v === 'nonsharedfs' || v === 'condorio') return v;
  throw new PlanError(
    `${describeJob(job)}: data.configuration is "${v}" (expected sharedfs, nonsharedfs or condorio)`,
  );
}
