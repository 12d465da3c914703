import { PlanError } from '../errors.js';
import { addEdge, addJob, auxJob, type ExecutableWorkflow } from '../executable-workflow.js';
import { adjacencyOf, longestDepths } from '../internal/graph.js';
import { auxillaryLocal, type PlanContext, workDirOf } from '../planning-context.js';

export type CleanupMode = 'none' | 'inplace' | 'leaf';

export interface CleanupOptions {
  /** pegasus.file.cleanup.clusters.num: cleanup jobs per level */
  clustersNum?: number;
  /** pegasus.file.cleanup.clusters.size: cleanup candidates (see addCleanup) per cleanup job */
  clustersSize?: number;
  /** keep outputs marked stageOut when no output site takes them (default true) */
  keepUnstagedOutputs?: boolean;
}

const CLEANUP_TR = 'pegasus::cleanup';
const CLEANUP_ARGV = ['pegasus-ts', 'transfer'];

/** The (site, lfn) pairs a job reads or writes on staging sites. */
function* filesOf(wf: ExecutableWorkflow, i: number): IterableIterator<[string, string]> {
  const j = wf.jobs[i];
  // a sub-workflow job reads and writes the files it shares with its parent in the parent's work dir
  if (j.kind === 'compute' || j.kind === 'cluster' || j.kind === 'sub-workflow') {
    if (!j.stagingSite) return;
    for (const f of j.inputs) yield [j.stagingSite, f];
    for (const f of j.outputs) yield [j.stagingSite, f];
    return;
  }
  if (j.transfers) {
    for (const t of j.transfers) {
      if (j.kind === 'stage-in' || j.kind === 'inter-site') yield [t.dest.site, t.lfn];
      if (j.kind === 'stage-out' || j.kind === 'inter-site') yield [t.sources[0].site, t.lfn];
    }
  }
}

/**
 * Cleanup jobs. `inplace`: per staging site, each file is removed once every job that reads or
 * writes it there is done, by `clean_up_<site>_level_<L>_<i>` jobs (L = depth of the cleanup in
 * the executable graph), children of every user of their files. As in Pegasus, the candidates are
 * per job: a file belongs to the cleanup of its deepest user (its owner), and a level gets
 * ceil(owners / 5) cleanup jobs unless clusters.num/size say otherwise, each removing the files
 * of whole owners (a merge reading 2,000 simulation outputs gives one cleanup job, not 400); outputs still to be staged out are only
 * removed after their stage-out. `leaf` (also added by `inplace`): one
 * `cleanup_<label>_0_<site>` per staging site removing the whole work dir, a child of the last
 * jobs on that site. Registration jobs are not waited for. Mutates and returns `wf`.
 */
export function addCleanup(
  ctx: PlanContext,
  wf: ExecutableWorkflow,
  mode: CleanupMode,
  options: CleanupOptions = {},
): ExecutableWorkflow {
  if (mode === 'none') return wf;
  if (mode === 'inplace') addInplaceCleanup(ctx, wf, options);
  addLeafCleanup(ctx, wf);
  return wf;
}

function addInplaceCleanup(ctx: PlanContext, wf: ExecutableWorkflow, options: CleanupOptions): void {
  const n0 = wf.jobs.length;
  const adj = adjacencyOf(wf);
  const depth = longestDepths(adj);
  // file key -> users (job indices), and the deepest user's depth
  const users = new Map<string, number[]>();
  const maxDepth = new Map<string, number>();
  // the deepest user (the last one at that depth): the job whose cleanup candidate takes the file
  const owner = new Map<string, number>();
  const keep = new Set<string>();
  if (options.keepUnstagedOutputs ?? true) {
    if (ctx.outputSites.length === 0) {
      for (const j of wf.jobs)
        if (j.stageOut && j.stagingSite) for (const f of j.stageOut) keep.add(`${j.stagingSite}\0${f}`);
    }
  }
  for (let i = 0; i < n0; i++) {
    for (const [site, lfn] of filesOf(wf, i)) {
      const key = `${site}\0${lfn}`;
      if (keep.has(key)) continue;
      const u = users.get(key);
      if (u) {
        if (u[u.length - 1] !== i) u.push(i);
      } else users.set(key, [i]);
      const d = maxDepth.get(key);
      if (d === undefined || depth[i] >= d) {
        maxDepth.set(key, depth[i]);
        owner.set(key, i);
      }
    }
  }
  // group by (site, level of the cleanup)
  const groups = new Map<string, string[]>();
  for (const key of users.keys()) {
    const site = key.slice(0, key.indexOf('\0'));
    const g = `${site}\0${(maxDepth.get(key) as number) + 1}`;
    const list = groups.get(g);
    if (list) list.push(key);
    else groups.set(g, [key]);
  }
  for (const [g, keys] of groups) {
    const cut = g.indexOf('\0');
    const site = g.slice(0, cut);
    const level = Number(g.slice(cut + 1));
    // files grouped by owner, owners in plan order
    const byOwner = new Map<number, string[]>();
    for (const key of keys) {
      const o = owner.get(key) as number;
      const list = byOwner.get(o);
      if (list) list.push(key);
      else byOwner.set(o, [key]);
    }
    const owners = [...byOwner.keys()].sort((a, b) => a - b);
    let count: number;
    if (options.clustersNum !== undefined) count = Math.min(options.clustersNum, owners.length);
    else if (options.clustersSize !== undefined) count = Math.ceil(owners.length / options.clustersSize);
    else count = Math.ceil(owners.length / 5);
    const work = workDirOf(ctx, site);
    const runOn = !work.url.startsWith('file:') || auxillaryLocal(ctx, site) ? 'local' : site;
    const per = Math.ceil(owners.length / count);
    for (let c = 0, start = 0; start < owners.length; c++, start += per) {
      const job = auxJob(
        `clean_up_${site}_level_${level}_${c}`,
        'cleanup',
        runOn,
        CLEANUP_TR,
        CLEANUP_ARGV,
        level,
        ctx.defaultRetries,
      );
      job.stagingSite = site;
      job.recursive = false;
      job.targets = [];
      const idx = addJob(wf, job);
      const parents = new Set<number>();
      for (let k = start; k < Math.min(owners.length, start + per); k++) {
        for (const key of byOwner.get(owners[k]) as string[]) {
          const lfn = key.slice(key.indexOf('\0') + 1);
          job.targets.push({ site, url: `${work.url}/${lfn}` });
          for (const u of users.get(key) as number[]) parents.add(u);
        }
      }
      for (const p of parents) addEdge(wf, p, idx);
    }
  }
}

function addLeafCleanup(ctx: PlanContext, wf: ExecutableWorkflow): void {
  const n0 = wf.jobs.length;
  const adj = adjacencyOf(wf);
  const sites: string[] = [];
  for (const j of wf.jobs) if (j.stagingSite && !sites.includes(j.stagingSite)) sites.push(j.stagingSite);
  const leaf = new Map<string, number>();
  for (const S of sites) {
    const work = workDirOf(ctx, S);
    const runOn = !work.url.startsWith('file:') || auxillaryLocal(ctx, S) ? 'local' : S;
    const job = auxJob(
      `cleanup_${ctx.label}_0_${S}`,
      'cleanup',
      runOn,
      CLEANUP_TR,
      CLEANUP_ARGV,
      0,
      ctx.defaultRetries,
    );
    job.stagingSite = S;
    job.recursive = true;
    job.targets = [{ site: S, url: work.url }];
    leaf.set(S, addJob(wf, job));
  }
  for (let i = 0; i < n0; i++) {
    const S = wf.jobs[i].stagingSite;
    if (!S) continue;
    let last = true;
    for (let x = adj.childOffsets[i]; x < adj.childOffsets[i + 1]; x++) {
      if (wf.jobs[adj.childIndex[x]].stagingSite === S) {
        last = false;
        break;
      }
    }
    if (last) addEdge(wf, i, leaf.get(S) as number);
  }
}

/** Validates `--cleanup`. */
export function parseCleanupMode(v: string | undefined): CleanupMode {
  const m = v ?? 'inplace';
  if (m === 'none' || m === 'inplace' || m === 'leaf') return m;
  throw new PlanError(`--cleanup ${m} (expected none, inplace or leaf)`);
}
