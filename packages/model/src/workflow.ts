import type { Extensions, Hooks, Metadata } from './common.js';
import type { Profiles } from './profiles.js';
import type { ReplicaCatalog } from './replica-catalog.js';
import type { SiteCatalog } from './site-catalog.js';
import type { TransformationCatalog, TransformationRef } from './transformation-catalog.js';

export type LinkType = 'input' | 'output' | 'inout' | 'checkpoint' | 'none';

/** One `uses` entry of a job. Booleans are filled in with their defaults at load time. */
export interface FileUse {
  lfn: string;
  type: LinkType;
  /** outputs: transfer to the output site (default true) */
  stageOut: boolean;
  /** outputs: register the final location (default true) */
  registerReplica: boolean;
  /** default false */
  optional: boolean;
  /** inputs: fetch straight from the replica location (default false) */
  bypass: boolean;
  /** needed by the planner of a sub-workflow (default false; forced true for a sub-workflow's own file) */
  forPlanning: boolean;
  size?: string;
  metadata?: Metadata;
  /** accepted by the schema, ignored by the planner */
  namespace?: string;
  version?: string;
  executable?: boolean;
}

/** Whether the use reads the file (input, inout, checkpoint). */
export function isInputUse(u: FileUse): boolean {
  return u.type === 'input' || u.type === 'inout' || u.type === 'checkpoint';
}

/** Whether the use writes the file (output, inout, checkpoint). */
export function isOutputUse(u: FileUse): boolean {
  return u.type === 'output' || u.type === 'inout' || u.type === 'checkpoint';
}

export type JobKind = 'job' | 'pegasusWorkflow' | 'condorWorkflow';

interface JobBase {
  /** unique, `^[-0-9a-zA-Z_]+$` */
  id: string;
  /** arguments as written; an item equal to a used LFN is a file reference (see fileArguments) */
  arguments: (string | number)[];
  uses: FileUse[];
  stdin?: string;
  stdout?: string;
  stderr?: string;
  profiles: Profiles;
  hooks?: Hooks;
  metadata?: Metadata;
  nodeLabel?: string;
  extensions?: Extensions;
}

/** A compute job running transformation `namespace::name:version`. */
export interface ComputeJob extends JobBase {
  type: 'job';
  name: string;
  namespace?: string;
  version?: string;
}

/** A sub-workflow job: a Pegasus workflow planned at run time, or an existing HTCondor DAG. */
export interface SubWorkflowJob extends JobBase {
  type: 'pegasusWorkflow' | 'condorWorkflow';
  /** LFN of the sub-workflow YAML or .dag file */
  file: string;
}

export type Job = ComputeJob | SubWorkflowJob;

/** One `jobDependencies` entry: parent id -> child ids. */
export interface Dependency {
  id: string;
  children: string[];
}

/** The abstract workflow (`wf-5.0.yml`). */
export interface AbstractWorkflow {
  /** format version, "5.0" */
  pegasus: string;
  name: string;
  /** the user's own version */
  version?: string;
  jobs: Job[];
  /** explicit edges as written; data edges are inferred by WorkflowGraph */
  dependencies: Dependency[];
  /** workflow-wide profiles (lowest priority, like properties) */
  profiles: Profiles;
  hooks?: Hooks;
  metadata?: Metadata;
  siteCatalog?: SiteCatalog;
  /** `siteCatalog: {$ref: iri}` (a hosted catalog) */
  siteCatalogRef?: string;
  replicaCatalog?: ReplicaCatalog;
  transformationCatalog?: TransformationCatalog;
  extensions?: Extensions;
}

/** The transformation a job runs (sub-workflow jobs: `pegasus::pegasus-plan` / `condor::dagman`). */
export function jobTransformation(job: Job): TransformationRef {
  if (job.type === 'job') {
    const ref: TransformationRef = { name: job.name };
    if (job.namespace !== undefined) ref.namespace = job.namespace;
    if (job.version !== undefined) ref.version = job.version;
    return ref;
  }
  return job.type === 'pegasusWorkflow'
    ? { namespace: 'pegasus', name: 'pegasus-plan' }
    : { namespace: 'condor', name: 'dagman' };
}

/** Indices of the arguments that name a file the job uses. */
export function fileArguments(job: Job): number[] {
  const lfns = new Set(job.uses.map((u) => u.lfn));
  const out: number[] = [];
  job.arguments.forEach((a, i) => {
    if (typeof a === 'string' && lfns.has(a)) out.push(i);
  });
  return out;
}

/** The planner's command line: arguments joined with single spaces, trimmed (no quoting). */
export function argumentString(job: Job): string {
  return job.arguments.map(String).join(' ').trim();
}

/** A FileUse with the defaults filled in. */
export function fileUse(
  lfn: string,
  type: LinkType,
  options: Partial<Omit<FileUse, 'lfn' | 'type'>> = {},
): FileUse {
  return {
    lfn,
    type,
    stageOut: true,
    registerReplica: true,
    optional: false,
    bypass: false,
    forPlanning: false,
    ...options,
  };
}
