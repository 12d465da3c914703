import { type Checksum, getProfile, type Pfn, type Profiles, type ReplicaMatch } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';
import {
  addEdge,
  addJob,
  auxJob,
  type ExecJob,
  type ExecutableWorkflow,
  type Registration,
  type SiteUrl,
  type SourceUrl,
} from '../executable-workflow.js';
import { adjacencyOf, longestDepths } from '../internal/graph.js';
import { auxillaryLocal, type PlanContext, storageUrlOf, workDirOf } from '../planning-context.js';
import { selectReplicas } from './select-replicas.js';

export interface DataMovementOptions {
  /** stageable executables: lfn -> source (from mapJobs) */
  executableSources?: ReadonlyMap<string, SiteUrl>;
  /** outputs of jobs removed by data reuse that must still reach the output sites */
  reusedOutputs?: readonly { lfn: string; register: boolean }[];
  /** create registration jobs (pegasus.register, default true) */
  register?: boolean;
}

const TRANSFER_TR = 'pegasus::transfer';
const TRANSFER_ARGV = ['pegasus-ts', 'transfer'];

/** Transfer jobs per level bucket: the profile override, else ceil(nodes at the level / 10). */
function bucketSize(
  p: Profiles,
  kind: 'stagein' | 'stageout',
  where: 'local' | 'remote',
  nodes: number,
): number {
  const v =
    getProfile(p, 'pegasus', `${kind}.${where}.clusters`) ?? getProfile(p, 'pegasus', `${kind}.clusters`);
  if (v !== undefined) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      throw new PlanError(`pegasus profile ${kind}.clusters is "${v}" (expected an integer >= 1)`);
    }
    return n;
  }
  return Math.max(1, Math.ceil(nodes / 10));
}

/**
 * The transfer sources of a file from its replica catalog matches: ordered by `selectReplicas`
 * when `preferredSite` is given (else catalog order), each carrying the checksum of the
 * replica entry it comes from.
 */
function replicaSources(found: readonly ReplicaMatch[], preferredSite: string | undefined): SourceUrl[] {
  let sums: Map<Pfn, Checksum> | undefined;
  for (const m of found) {
    if (!m.replica.checksum) continue;
    sums ??= new Map();
    for (const p of m.pfns) sums.set(p, m.replica.checksum);
  }
  const pfns = found.flatMap((m) => m.pfns);
  const ordered = preferredSite === undefined ? pfns : selectReplicas(pfns, preferredSite);
  return ordered.map((p) => {
    const sum = sums?.get(p);
    return sum ? { site: p.site, url: p.pfn, checksum: { ...sum } } : { site: p.site, url: p.pfn };
  });
}

function isFileUrl(u: string): boolean {
  return u.startsWith('file:');
}

/**
 * Data movement (Pegasus's BalancedCluster refiner): stage-in jobs for raw inputs (each file
 * once per staging site), inter-site jobs between staging sites, stage-out jobs to the output
 * sites and registration jobs, then one create-dir job per staging site. Per level and staging
 * site (and local/remote), about one transfer job per ten nodes of the level, files assigned
 * round-robin. Names: `stage_in_{local|remote}_<site>_<level>_<i>`, `stage_out_...`,
 * `register_<site>_<level>_<i>`, `stage_inter_{local|remote}_<parent>_<n>`,
 * `create_dir_<label>_0_<site>`. Mutates and returns `wf`.
 */
export function addDataMovement(
  ctx: PlanContext,
  wf: ExecutableWorkflow,
  options: DataMovementOptions = {},
): ExecutableWorkflow {
  const register = options.register ?? true;
  const n0 = wf.jobs.length;
  const adj = adjacencyOf(wf);
  const depth = longestDepths(adj);
  const nodesAtLevel = new Map<number, number>();
  for (let i = 0; i < n0; i++) nodesAtLevel.set(depth[i], (nodesAtLevel.get(depth[i]) ?? 0) + 1);
  const producer = new Map<string, number>();
  for (let i = 0; i < n0; i++) for (const f of wf.jobs[i].outputs) if (!producer.has(f)) producer.set(f, i);

  interface Bucket {
    jobs: (number | undefined)[];
    next: number;
    twins?: (number | undefined)[];
  }
  const buckets = new Map<string, Bucket>();
  const bucketJob = (
    kind: 'in' | 'out',
    site: string,
    remote: boolean,
    level: number,
    profiles: Profiles,
    retries: number,
  ): { job: number; slot: number; bucket: Bucket } => {
    const key = `${kind}\0${site}\0${remote ? 'r' : 'l'}\0${level}`;
    let b = buckets.get(key);
    if (!b) {
      const size =
        level === 1000
          ? 10
          : bucketSize(
              profiles,
              kind === 'in' ? 'stagein' : 'stageout',
              remote ? 'remote' : 'local',
              nodesAtLevel.get(level) ?? 1,
            );
      b = { jobs: new Array(size).fill(undefined), next: 0 };
      buckets.set(key, b);
    }
    const slot = b.next;
    b.next = (b.next + 1) % b.jobs.length;
    let j = b.jobs[slot];
    if (j === undefined) {
      const name = `${kind === 'in' ? 'stage_in' : 'stage_out'}_${remote ? 'remote' : 'local'}_${site}_${level}_${slot}`;
      const job = auxJob(
        name,
        kind === 'in' ? 'stage-in' : 'stage-out',
        remote ? site : 'local',
        TRANSFER_TR,
        TRANSFER_ARGV,
        level,
        retries,
      );
      job.stagingSite = site;
      job.transfers = [];
      j = addJob(wf, job);
      b.jobs[slot] = j;
    }
    return { job: j, slot, bucket: b };
  };

  // --- stage-in and inter-site -----------------------------------------------------------
  const stagedIn = new Map<string, number>(); // site \0 lfn -> stage-in job
  const inter = new Map<string, number>(); // parent \0 site -> inter job
  const interDone = new Set<string>();
  const interCount = new Map<number, number>();
  for (let i = 0; i < n0; i++) {
    const j = wf.jobs[i];
    const S = j.stagingSite;
    if (!S) continue;
    for (const lfn of j.inputs) {
      const p = producer.get(lfn);
      if (p !== undefined && p !== i) {
        const pj = wf.jobs[p];
        if (pj.stagingSite === S || !pj.stagingSite) continue;
        const key = `${p}\0${S}`;
        let t = inter.get(key);
        if (t === undefined) {
          const c = interCount.get(p) ?? 0;
          interCount.set(p, c + 1);
          const remote = !auxillaryLocal(ctx, S) || !auxillaryLocal(ctx, pj.stagingSite);
          const site = remote ? S : 'local';
          const job = auxJob(
            `stage_inter_${remote ? 'remote' : 'local'}_${pj.name}_${c}`,
            'inter-site',
            site,
            TRANSFER_TR,
            TRANSFER_ARGV,
            depth[i],
            j.retries,
          );
          job.stagingSite = S;
          job.transfers = [];
          t = addJob(wf, job);
          inter.set(key, t);
          addEdge(wf, p, t);
        }
        if (!interDone.has(`${t}\0${lfn}`)) {
          interDone.add(`${t}\0${lfn}`);
          (wf.jobs[t].transfers as NonNullable<ExecJob['transfers']>).push({
            lfn,
            linkage: 'inter',
            sources: [{ site: pj.stagingSite, url: `${workDirOf(ctx, pj.stagingSite).url}/${lfn}` }],
            dest: { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` },
          });
        }
        addEdge(wf, t, i);
        continue;
      }
      if (p === i) continue;
      const key = `${S}\0${lfn}`;
      const done = stagedIn.get(key);
      if (done !== undefined) {
        addEdge(wf, done, i);
        continue;
      }
      let sources: SourceUrl[];
      const exe = options.executableSources?.get(lfn);
      if (exe) sources = [exe];
      else {
        const found = ctx.replicas.lookup(lfn);
        if (!found || found.length === 0) {
          throw new PlanError(
            `job "${j.name}": input "${lfn}" is produced by no job and has no replica (expected a replica catalog entry)`,
          );
        }
        sources = replicaSources(found, j.site);
      }
      const dest = { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` };
      const remote = isFileUrl(dest.url) && !auxillaryLocal(ctx, S);
      const { job } = bucketJob('in', S, remote, depth[i], j.profiles, j.retries);
      (wf.jobs[job].transfers as NonNullable<ExecJob['transfers']>).push({
        lfn,
        linkage: 'input',
        sources,
        dest,
      });
      stagedIn.set(key, job);
      addEdge(wf, job, i);
    }
  }

  // --- stage-out and registration --------------------------------------------------------
  const registerJobs = new Map<string, number>(); // bucket key/slot -> register job
  const registerFor = (name: string, site: string, level: number, retries: number): number => {
    let r = registerJobs.get(name);
    if (r === undefined) {
      const job = auxJob(
        name,
        'registration',
        'local',
        'pegasus::rc-client',
        ['pegasus-ts', 'rc-client'],
        level,
        retries,
      );
      job.registrations = [];
      job.stagingSite = undefined;
      r = addJob(wf, job);
      registerJobs.set(name, r);
    }
    void site;
    return r;
  };
  const regBuckets = new Map<string, { next: number; size: number }>();
  for (let i = 0; i < n0; i++) {
    const j = wf.jobs[i];
    const S = j.stagingSite;
    if (!S) continue;
    const toRegister = register && j.register ? new Set(j.register) : undefined;
    if (ctx.outputSites.length > 0 && j.stageOut) {
      for (const lfn of j.stageOut) {
        for (const O of ctx.outputSites) {
          const src = { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` };
          const dest = { site: O, url: `${storageUrlOf(ctx, O)}/${lfn}` };
          const remote =
            (isFileUrl(src.url) && !auxillaryLocal(ctx, S)) ||
            (isFileUrl(dest.url) && !auxillaryLocal(ctx, O));
          const { job, slot } = bucketJob('out', S, remote, depth[i], j.profiles, j.retries);
          (wf.jobs[job].transfers as NonNullable<ExecJob['transfers']>).push({
            lfn,
            linkage: 'output',
            sources: [src],
            dest,
          });
          addEdge(wf, i, job);
          if (toRegister?.has(lfn)) {
            const r = registerFor(`register_${S}_${depth[i]}_${slot}`, S, depth[i], j.retries);
            (wf.jobs[r].registrations as Registration[]).push({ lfn, url: dest.url, site: O });
            addEdge(wf, job, r);
          }
        }
        toRegister?.delete(lfn);
      }
    }
    if (toRegister && toRegister.size > 0) {
      // nothing staged out: register the file where it is, straight after the job
      const key = `${S}\0${depth[i]}`;
      let b = regBuckets.get(key);
      if (!b) {
        b = { next: 0, size: Math.max(1, Math.ceil((nodesAtLevel.get(depth[i]) ?? 1) / 10)) };
        regBuckets.set(key, b);
      }
      const slot = b.next;
      b.next = (b.next + 1) % b.size;
      const r = registerFor(`register_${S}_${depth[i]}_${slot}`, S, depth[i], j.retries);
      for (const lfn of toRegister) {
        (wf.jobs[r].registrations as Registration[]).push({
          lfn,
          url: `${workDirOf(ctx, S).url}/${lfn}`,
          site: S,
        });
      }
      addEdge(wf, i, r);
    }
  }

  // --- outputs of jobs removed by data reuse: RC location -> output sites (level 1000) ---
  if (options.reusedOutputs && ctx.outputSites.length > 0) {
    for (const { lfn, register: reg } of options.reusedOutputs) {
      const found = ctx.replicas.lookup(lfn);
      if (!found) continue;
      const sources = replicaSources(found, undefined);
      for (const O of ctx.outputSites) {
        const dest = { site: O, url: `${storageUrlOf(ctx, O)}/${lfn}` };
        const { job, slot } = bucketJob('out', 'local', false, 1000, {}, ctx.defaultRetries);
        (wf.jobs[job].transfers as NonNullable<ExecJob['transfers']>).push({
          lfn,
          linkage: 'output',
          sources,
          dest,
        });
        if (reg && register) {
          const r = registerFor(`register_local_1000_${slot}`, 'local', 1000, ctx.defaultRetries);
          (wf.jobs[r].registrations as Registration[]).push({ lfn, url: dest.url, site: O });
          addEdge(wf, job, r);
        }
      }
    }
  }
  return wf;
}

/**
 * Create-dir jobs: one per staging site (`create_dir_<label>_0_<site>`, on the submit host when
 * it can reach the site's work dir, else on the site), a parent of every job working on that
 * site none of whose parents does (the Minimal strategy). Mutates and returns `wf`.
 */
export function addCreateDirs(ctx: PlanContext, wf: ExecutableWorkflow): ExecutableWorkflow {
  const n0 = wf.jobs.length;
  const adj = adjacencyOf(wf);
  const sites: string[] = [];
  for (const j of wf.jobs) if (j.stagingSite && !sites.includes(j.stagingSite)) sites.push(j.stagingSite);
  const created = new Map<string, number>();
  for (const S of sites) {
    const work = workDirOf(ctx, S);
    const local = !isFileUrl(work.url) || auxillaryLocal(ctx, S);
    const job = auxJob(
      `create_dir_${ctx.label}_0_${S}`,
      'create-dir',
      local ? 'local' : S,
      'pegasus::dirmanager',
      ['pegasus-ts', 'transfer'],
      0,
      ctx.defaultRetries,
    );
    job.stagingSite = S;
    job.targets = [{ site: S, url: work.url }];
    created.set(S, addJob(wf, job));
  }
  for (let i = 0; i < n0; i++) {
    const S = wf.jobs[i].stagingSite;
    if (!S) continue;
    let covered = false;
    for (let x = adj.parentOffsets[i]; x < adj.parentOffsets[i + 1]; x++) {
      if (wf.jobs[adj.parentIndex[x]].stagingSite === S) {
        covered = true;
        break;
      }
    }
    if (!covered) addEdge(wf, created.get(S) as number, i);
  }
  return wf;
}
