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
import {
  auxillaryLocal,
  outputUrlOf,
  type PlanContext,
  profileWhere,
  workDirOf,
} from '../planning-context.js';
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
  at: (key: string) => string,
): number {
  const specific = `${kind}.${where}.clusters`;
  const key = getProfile(p, 'pegasus', specific) !== undefined ? specific : `${kind}.clusters`;
  const v = getProfile(p, 'pegasus', key);
  if (v !== undefined) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      throw new PlanError(`${at(key)}pegasus profile ${key} is "${v}" (expected an integer >= 1)`);
    }
    return n;
  }
  return Math.max(1, Math.ceil(nodes / 10));
}

/**
 * `pegasus.transfer.refiner`: how files are grouped into transfer jobs. `BalancedCluster` (the
 * default): per level, bucket and staging site, files round-robin over the bucket's jobs, one
 * file at a time. `Cluster`: the same jobs, but all the files of one compute job go into one of
 * them (jobs round-robin). `Basic`: one stage-in and one stage-out job per compute job.
 */
export type TransferRefiner = 'BalancedCluster' | 'Cluster' | 'Basic';

export function transferRefiner(value: string | undefined): TransferRefiner {
  const v = value ?? 'BalancedCluster';
  if (v === 'BalancedCluster' || v === 'Cluster' || v === 'Basic') return v;
  throw new PlanError(`pegasus.transfer.refiner is "${v}" (expected BalancedCluster, Cluster or Basic)`);
}

/**
 * How many files one transfer job moves at once: the pegasus profile (or property)
 * `transfer.threads`, default 2 as in Pegasus; what `pegasus-ts transfer --jobs` gets.
 */
function transferThreads(p: Profiles, at: (key: string) => string): number {
  const v = getProfile(p, 'pegasus', 'transfer.threads');
  if (v === undefined) return 2;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new PlanError(
      `${at('transfer.threads')}pegasus profile transfer.threads is "${v}" (expected an integer from 1 to 1024)`,
    );
  }
  return n;
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
 * Data movement: stage-in jobs for raw inputs (each file once per staging site), inter-site jobs
 * between staging sites, stage-out jobs to the output sites and registration jobs, then one
 * create-dir job per staging site. Transfer jobs as `pegasus.transfer.refiner` says
 * ({@link TransferRefiner}; BalancedCluster: per level and staging site, and local/remote, about
 * one transfer job per ten nodes of the level, files assigned round-robin). Names: `stage_in_{local|remote}_<site>_<level>_<i>`, `stage_out_...`,
 * `register_<site>_<level>_<i>`, `stage_inter_{local|remote}_<parent>_<n>`,
 * `create_dir_<label>_0_<site>`. Mutates and returns `wf`.
 */
export function addDataMovement(
  ctx: PlanContext,
  wf: ExecutableWorkflow,
  options: DataMovementOptions = {},
): ExecutableWorkflow {
  const dm = new DataMovement(ctx, wf, options);
  for (let i = 0; i < dm.computeJobs; i++) dm.stageInputs(i);
  for (let i = 0; i < dm.computeJobs; i++) dm.stageOutputs(i);
  dm.stageReusedOutputs();
  return wf;
}

type Transfer = NonNullable<ExecJob['transfers']>[number];

/** The transfer jobs of one (stage-in or stage-out, staging site, local/remote, level): files round-robin. */
interface Bucket {
  jobs: (number | undefined)[];
  next: number;
  /** the Cluster refiner: compute job -> its slot (all its files in one transfer job) */
  slotOf?: Map<number, number>;
}

/** Level of the stage-out jobs of outputs whose producers data reuse removed. */
const REUSED_LEVEL = 1000;

/** The steps of `addDataMovement` over one workflow, and what they share. */
class DataMovement {
  /** the jobs before any data job was added (the ones whose files move) */
  readonly computeJobs: number;
  private readonly register: boolean;
  private readonly refiner: TransferRefiner;
  private readonly depth: Int32Array;
  private readonly nodesAtLevel = new Map<number, number>();
  /** lfn -> the first job that writes it */
  private readonly producer = new Map<string, number>();
  /** kind \0 site \0 l|r \0 level -> its transfer jobs */
  private readonly buckets = new Map<string, Bucket>();
  /** site \0 lfn -> the stage-in job bringing it there */
  private readonly stagedIn = new Map<string, number>();
  /** parent \0 site -> the inter-site job from the parent's staging site */
  private readonly inter = new Map<string, number>();
  /** inter-site job \0 lfn already in it */
  private readonly interFiles = new Set<string>();
  /** parent -> inter-site jobs made for it (numbers their names) */
  private readonly interCount = new Map<number, number>();
  /** name -> registration job */
  private readonly registerJobs = new Map<string, number>();
  /** site \0 level -> round-robin over the in-place registration jobs */
  private readonly regBuckets = new Map<string, { next: number; size: number }>();

  constructor(
    private readonly ctx: PlanContext,
    private readonly wf: ExecutableWorkflow,
    private readonly options: DataMovementOptions,
  ) {
    this.register = options.register ?? true;
    this.refiner = transferRefiner(ctx.properties.get('pegasus.transfer.refiner'));
    const n0 = wf.jobs.length;
    this.computeJobs = n0;
    this.depth = longestDepths(adjacencyOf(wf));
    for (let i = 0; i < n0; i++) {
      const d = this.depth[i];
      this.nodesAtLevel.set(d, (this.nodesAtLevel.get(d) ?? 0) + 1);
    }
    for (let i = 0; i < n0; i++)
      for (const f of wf.jobs[i].outputs) if (!this.producer.has(f)) this.producer.set(f, i);
  }

  /** Job `i`'s inputs: from another staging site (inter-site), or from the replicas (stage-in). */
  stageInputs(i: number): void {
    const j = this.wf.jobs[i];
    const S = j.stagingSite;
    if (!S) return;
    for (const lfn of j.inputs) {
      const p = this.producer.get(lfn);
      if (p === i) continue;
      if (p === undefined && this.bypasses(j, lfn)) {
        // the job pulls the file from its replica itself (its lite spec); no stage-in
        j.directSources ??= new Map();
        j.directSources.set(lfn, this.sourcesOf(j, lfn));
      } else if (p === undefined) this.stageIn(i, S, lfn);
      else {
        const from = this.wf.jobs[p].stagingSite;
        if (from && from !== S) this.interSite(i, S, p, from, lfn);
      }
    }
  }

  /**
   * Whether a raw input of a job in a scratch dir skips the staging site: the file's `bypass`
   * flag, or `pegasus.transfer.bypass.input.staging` (stageable executables are always staged).
   */
  private bypasses(j: ExecJob, lfn: string): boolean {
    if (j.kind !== 'compute' || j.stagingUrl === undefined || this.options.executableSources?.has(lfn))
      return false;
    this.bypassAll ??= this.ctx.properties.getBoolean('pegasus.transfer.bypass.input.staging', false);
    return this.bypassAll || (j.bypass?.includes(lfn) ?? false);
  }

  private bypassAll: boolean | undefined;

  /** A raw input of job `i`: into a stage-in job of its level, once per staging site. */
  private stageIn(i: number, S: string, lfn: string): void {
    const { ctx, wf } = this;
    const j = wf.jobs[i];
    const key = `${S}\0${lfn}`;
    const done = this.stagedIn.get(key);
    if (done !== undefined) {
      addEdge(wf, done, i);
      return;
    }
    const sources = this.sourcesOf(j, lfn);
    const dest = { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` };
    const remote = isFileUrl(dest.url) && !auxillaryLocal(ctx, S);
    const { job } = this.transferJob('in', S, remote, this.depth[i], j.profiles, j.retries, i);
    transfersOf(wf.jobs[job]).push({ lfn, linkage: 'input', sources, dest });
    this.stagedIn.set(key, job);
    addEdge(wf, job, i);
  }

  /** Where a raw input comes from: a stageable executable, else the replica catalog. */
  private sourcesOf(j: ExecJob, lfn: string): SourceUrl[] {
    const exe = this.options.executableSources?.get(lfn);
    if (exe) return [exe];
    const found = this.ctx.replicas.lookup(lfn);
    if (!found || found.length === 0) {
      throw new PlanError(
        `job "${j.name}": input "${lfn}" is produced by no job and has no replica (expected a replica catalog entry)`,
      );
    }
    return replicaSources(found, j.site);
  }

  /** A file job `p` wrote on staging site `from` and job `i` reads on `S`: one inter-site job per (p, S). */
  private interSite(i: number, S: string, p: number, from: string, lfn: string): void {
    const { ctx, wf } = this;
    const key = `${p}\0${S}`;
    let t = this.inter.get(key);
    if (t === undefined) {
      const c = this.interCount.get(p) ?? 0;
      this.interCount.set(p, c + 1);
      const remote = !auxillaryLocal(ctx, S) || !auxillaryLocal(ctx, from);
      const job = auxJob(
        `stage_inter_${remote ? 'remote' : 'local'}_${wf.jobs[p].name}_${c}`,
        'inter-site',
        remote ? S : 'local',
        TRANSFER_TR,
        TRANSFER_ARGV,
        this.depth[i],
        wf.jobs[i].retries,
      );
      job.stagingSite = S;
      job.transfers = [];
      t = addJob(wf, job);
      this.inter.set(key, t);
      addEdge(wf, p, t);
    }
    if (!this.interFiles.has(`${t}\0${lfn}`)) {
      this.interFiles.add(`${t}\0${lfn}`);
      transfersOf(wf.jobs[t]).push({
        lfn,
        linkage: 'inter',
        sources: [{ site: from, url: `${workDirOf(ctx, from).url}/${lfn}` }],
        dest: { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` },
      });
    }
    addEdge(wf, t, i);
  }

  /**
   * Job `i`'s outputs: each staged out to every output site (and registered there when asked);
   * a file to register that is staged out nowhere is registered where it is.
   */
  stageOutputs(i: number): void {
    const { ctx, wf } = this;
    const j = wf.jobs[i];
    const S = j.stagingSite;
    if (!S) return;
    const level = this.depth[i];
    const toRegister = this.register && j.register ? new Set(j.register) : undefined;
    if (ctx.outputSites.length > 0 && j.stageOut) {
      for (const lfn of j.stageOut) {
        for (const O of ctx.outputSites) {
          const src = { site: S, url: `${workDirOf(ctx, S).url}/${lfn}` };
          const dest = { site: O, url: outputUrlOf(ctx, O, lfn) };
          const remote =
            (isFileUrl(src.url) && !auxillaryLocal(ctx, S)) ||
            (isFileUrl(dest.url) && !auxillaryLocal(ctx, O));
          const { job, suffix } = this.transferJob('out', S, remote, level, j.profiles, j.retries, i);
          transfersOf(wf.jobs[job]).push({ lfn, linkage: 'output', sources: [src], dest });
          addEdge(wf, i, job);
          if (toRegister?.has(lfn)) {
            const r = this.registrationJob(`register_${suffix}`, level, j.retries);
            registrationsOf(wf.jobs[r]).push({ lfn, url: dest.url, site: O });
            addEdge(wf, job, r);
          }
        }
        toRegister?.delete(lfn);
      }
    }
    if (toRegister && toRegister.size > 0) this.registerInPlace(i, S, toRegister);
  }

  /** Files of job `i` registered on its staging site, straight after the job (nothing staged them out). */
  private registerInPlace(i: number, S: string, lfns: ReadonlySet<string>): void {
    const { ctx, wf } = this;
    const level = this.depth[i];
    const key = `${S}\0${level}`;
    let b = this.regBuckets.get(key);
    if (!b) {
      b = { next: 0, size: Math.max(1, Math.ceil((this.nodesAtLevel.get(level) ?? 1) / 10)) };
      this.regBuckets.set(key, b);
    }
    const slot = b.next;
    b.next = (b.next + 1) % b.size;
    const r = this.registrationJob(`register_${S}_${level}_${slot}`, level, wf.jobs[i].retries);
    for (const lfn of lfns) {
      registrationsOf(wf.jobs[r]).push({ lfn, url: `${workDirOf(ctx, S).url}/${lfn}`, site: S });
    }
    addEdge(wf, i, r);
  }

  /** Outputs of jobs removed by data reuse: from their replica catalog location to the output sites. */
  stageReusedOutputs(): void {
    const { ctx, wf } = this;
    if (!this.options.reusedOutputs || ctx.outputSites.length === 0) return;
    let baseProfiles: Profiles | undefined;
    for (const { lfn, register: reg } of this.options.reusedOutputs) {
      const found = ctx.replicas.lookup(lfn);
      if (!found) continue;
      const sources = replicaSources(found, undefined);
      baseProfiles ??= ctx.properties.profiles();
      for (const O of ctx.outputSites) {
        const dest = { site: O, url: outputUrlOf(ctx, O, lfn) };
        const { job, suffix } = this.transferJob(
          'out',
          'local',
          false,
          REUSED_LEVEL,
          baseProfiles,
          ctx.defaultRetries,
        );
        transfersOf(wf.jobs[job]).push({ lfn, linkage: 'output', sources, dest });
        if (reg && this.register) {
          const r = this.registrationJob(`register_${suffix}`, REUSED_LEVEL, ctx.defaultRetries);
          registrationsOf(wf.jobs[r]).push({ lfn, url: dest.url, site: O });
          addEdge(wf, job, r);
        }
      }
    }
  }

  /**
   * The transfer job of a bucket (stage-in or stage-out, staging site, local or remote, level)
   * that takes the next file of compute job `forJob`, made on first use. BalancedCluster: the next
   * job round-robin, {@link bucketSize} jobs (10 at the reused outputs' level); Cluster: the same
   * jobs, the job's first file picks one and its other files follow; Basic: a job of its own
   * (`..._<compute job>_0`). `suffix` names the twin registration job (`register_<suffix>`).
   */
  private transferJob(
    kind: 'in' | 'out',
    site: string,
    remote: boolean,
    level: number,
    profiles: Profiles,
    retries: number,
    forJob?: number,
  ): { job: number; suffix: string } {
    const basic = this.refiner === 'Basic' && forJob !== undefined;
    const execSite = forJob === undefined ? 'local' : this.wf.jobs[forJob].site;
    const at = (k: string) => profileWhere(this.ctx, execSite, k);
    const owner = basic ? this.wf.jobs[forJob].name : `${site}_${level}`;
    const key = `${kind}\0${site}\0${remote ? 'r' : 'l'}\0${basic ? `job ${forJob}` : level}`;
    let b = this.buckets.get(key);
    if (!b) {
      const size =
        level === REUSED_LEVEL
          ? 10
          : basic
            ? 1
            : bucketSize(
                profiles,
                kind === 'in' ? 'stagein' : 'stageout',
                remote ? 'remote' : 'local',
                this.nodesAtLevel.get(level) ?? 1,
                at,
              );
      b = { jobs: new Array(size).fill(undefined), next: 0 };
      this.buckets.set(key, b);
    }
    let slot: number;
    const pinned = this.refiner === 'Cluster' && forJob !== undefined;
    const mine = pinned ? b.slotOf?.get(forJob) : undefined;
    if (mine !== undefined) slot = mine;
    else {
      slot = b.next;
      b.next = (b.next + 1) % b.jobs.length;
      if (pinned) {
        b.slotOf ??= new Map();
        b.slotOf.set(forJob, slot);
      }
    }
    const suffix = `${owner}_${slot}`;
    let j = b.jobs[slot];
    if (j === undefined) {
      const name = `${kind === 'in' ? 'stage_in' : 'stage_out'}_${remote ? 'remote' : 'local'}_${suffix}`;
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
      job.profiles = { pegasus: { 'transfer.threads': String(transferThreads(profiles, at)) } };
      j = addJob(this.wf, job);
      b.jobs[slot] = j;
    }
    return { job: j, suffix };
  }

  /** The registration job of this name (made on first use), on the submit host. */
  private registrationJob(name: string, level: number, retries: number): number {
    let r = this.registerJobs.get(name);
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
      r = addJob(this.wf, job);
      this.registerJobs.set(name, r);
    }
    return r;
  }
}

function transfersOf(job: ExecJob): Transfer[] {
  return job.transfers as Transfer[];
}

function registrationsOf(job: ExecJob): Registration[] {
  return job.registrations as Registration[];
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
