import type { ExecJobKind, PlanRegistration, PlanSiteUrl, PlanTransfer, Profiles } from '@pegasus-ts/model';

export type { ExecJobKind };

/** One source or destination of a transfer (pegasus-transfer JSON `src_urls`/`dest_urls`). */
export interface SiteUrl {
  site: string;
  url: string;
}

/** A transfer source: a SiteUrl plus the replica catalog's checksum of the file, when it has one. */
export type SourceUrl = PlanSiteUrl;

/** One file a transfer job moves: sources in the order to try, one destination (as in plan.yml). */
export type Transfer = PlanTransfer;

/** One record a registration job adds to the output replica catalog (as in plan.yml). */
export type Registration = PlanRegistration;

/** A file a compute/cluster job reads or writes, with where it is during the run. */
export interface FileRef {
  lfn: string;
  /** URL in the staging site's work directory */
  url: string;
}

/** One job of the executable workflow. Fields not used by a kind stay undefined. */
export interface ExecJob {
  name: string;
  kind: ExecJobKind;
  /** where the job runs (auxiliary jobs on the submit host: `local`) */
  site: string;
  /** `ns::name:ver` (auxiliary jobs: `pegasus::transfer`, `pegasus::dirmanager`, ...) */
  transformation: string;
  /** argv: executable first */
  argv: string[];
  /** the abstract job id (compute jobs) */
  abstractId?: string;
  /** staging site of a compute/cluster job; the site an auxiliary job works on */
  stagingSite?: string;
  /** directory the job runs in (sharedfs compute jobs: the work dir on the site) */
  directory?: string;
  /** nonsharedfs/condorio compute jobs: URL of the staging site's work dir (inputs come from and outputs go to it) */
  stagingUrl?: string;
  /** files the job uses as `checkpoint` (also in outputs) */
  checkpoints?: string[];
  /** inputs marked `bypass: true` in the workflow (pulled by the job from their replica, not staged) */
  bypass?: string[];
  /** nonsharedfs compute jobs: inputs that bypass the staging site, lfn -> their replica sources */
  directSources?: Map<string, SourceUrl[]>;
  /** nonsharedfs compute jobs: symlink inputs found on the execution site into the scratch dir (pegasus.transfer.links) */
  links?: boolean;
  /** nonsharedfs/condorio compute jobs: where the job's scratch dir is made (the site's localScratch) */
  scratchRoot?: string;
  /** how data reaches the job */
  dataConfiguration?: 'sharedfs' | 'nonsharedfs' | 'condorio';
  inputs: string[];
  outputs: string[];
  /** outputs that must be staged out (stageOut: true) */
  stageOut?: string[];
  /** outputs to register (registerReplica: true) */
  register?: string[];
  stdin?: string;
  stdout?: string;
  stderr?: string;
  /** merged profiles (shared between jobs: never modify in place) */
  profiles: Profiles;
  retries: number;
  /** explicit priority; undefined = the default of its kind (set at emit time) */
  priority?: number;
  /** level before auxiliary jobs (roots = 0) */
  level: number;
  transfers?: Transfer[];
  registrations?: Registration[];
  /** create-dir: mkdir targets; cleanup: remove targets */
  targets?: SiteUrl[];
  /** cleanup: remove recursively (leaf cleanup) */
  recursive?: boolean;
  /** cluster jobs: member compute jobs in a topological order, and edges between them (indices into tasks) */
  tasks?: ExecJob[];
  taskEdges?: [number, number][];
  /** cluster jobs: `horizontal` or `label` */
  clustering?: 'horizontal' | 'label';
  /** sub-workflow jobs: the sub-workflow's submit dir (plan.yml `subWorkflow`) */
  subWorkflow?: string;
}

/**
 * The executable workflow: jobs and edges (parallel arrays `edgeFrom[k] -> edgeTo[k]`, job
 * indices). Passes return a new ExecutableWorkflow or extend this one with addJob/addEdge.
 */
export interface ExecutableWorkflow {
  name: string;
  jobs: ExecJob[];
  edgeFrom: number[];
  edgeTo: number[];
}

export function emptyWorkflow(name: string): ExecutableWorkflow {
  return { name, jobs: [], edgeFrom: [], edgeTo: [] };
}

export function addJob(wf: ExecutableWorkflow, job: ExecJob): number {
  wf.jobs.push(job);
  return wf.jobs.length - 1;
}

export function addEdge(wf: ExecutableWorkflow, from: number, to: number): void {
  wf.edgeFrom.push(from);
  wf.edgeTo.push(to);
}

/** An auxiliary job with the common fields filled in. */
export function auxJob(
  name: string,
  kind: ExecJobKind,
  site: string,
  transformation: string,
  argv: string[],
  level: number,
  retries: number,
): ExecJob {
  return { name, kind, site, transformation, argv, inputs: [], outputs: [], profiles: {}, retries, level };
}
