import { type Issue, throwIfIssues } from './errors.js';
import {
  asArr,
  asBool,
  asObj,
  asStr,
  put,
  readExtensions,
  readHooks,
  readMetadata,
  readProfiles,
  readYaml,
  readYamlFile,
  type YamlRead,
} from './internal/read.js';
import { check, isPlainObject, type SchemaProblem } from './internal/schema.js';
import { type Source, setItemOrigin, setOrigin, setUseOrigin } from './internal/source.js';
import { dependencySpec, jobsSpec, workflowShellSpec } from './internal/specs.js';
import { replicaCatalogFromObject, replicaCatalogProblems } from './load-replica-catalog.js';
import { siteCatalogFromObject } from './load-site-catalog.js';
import {
  transformationCatalogFromObject,
  transformationCatalogProblems,
} from './load-transformation-catalog.js';
import { graphIssues } from './validate-workflow.js';
import type { AbstractWorkflow, Dependency, FileUse, Job, LinkType } from './workflow.js';

export interface WorkflowLoadOptions {
  /** infer data edges for the cycle check (default true, like pegasus.parser.dax.data.dependencies) */
  dataDependencies?: boolean;
}

/**
 * Parses a workflow (`workflow.yml`), checking it against the 5.0 schema and the graph rules that
 * need no catalog (duplicate ids, dangling ids in jobDependencies, a cycle, an LFN both input and
 * output of one job). Throws ModelError listing every problem.
 */
export function parseWorkflow(
  text: string,
  file = 'workflow.yml',
  options: WorkflowLoadOptions = {},
): AbstractWorkflow {
  const { workflow, issues } = parseWorkflowIssues(text, file, options);
  throwIfIssues(issues);
  return workflow;
}

/** Like parseWorkflow, but returns the problems instead of throwing. */
export function parseWorkflowIssues(
  text: string,
  file = 'workflow.yml',
  options: WorkflowLoadOptions = {},
): { workflow: AbstractWorkflow; issues: Issue[] } {
  const state = new JobReader();
  return workflowFromRead(readYaml(text, file, state.factory), state, file, options);
}

/** @internal reads a workflow file (streamed, jobs converted as they are read); problems returned. */
export async function readWorkflowIssues(
  path: string,
  options: WorkflowLoadOptions = {},
): Promise<{ workflow: AbstractWorkflow; issues: Issue[] }> {
  const state = new JobReader();
  return workflowFromRead(await readYamlFile(path, state.factory), state, path, options);
}

/**
 * Checks and converts each job and dependency as soon as the reader completes it, so the raw
 * parsed value of a job never outlives its model object.
 */
class JobReader {
  problems: SchemaProblem[] = [];
  readonly factory = (source: Source) => {
    const problems: SchemaProblem[] = [];
    this.problems = problems;
    return (key: string, i: number, v: unknown): unknown => {
      if (key === 'jobs') {
        check(jobsSpec, v, ['jobs', i], problems, 'workflow');
        return readJob(v, source, i);
      }
      if (key === 'jobDependencies') {
        check(dependencySpec, v, ['jobDependencies', i], problems, 'workflow');
        return readDependency(v, source, i);
      }
      return v;
    };
  };
}

function workflowFromRead(
  read: YamlRead,
  state: JobReader,
  file: string,
  options: WorkflowLoadOptions,
): { workflow: AbstractWorkflow; issues: Issue[] } {
  const { value, source, issues } = read;
  if (issues.length > 0) {
    return { workflow: { pegasus: '5.0', name: '', jobs: [], dependencies: [], profiles: {} }, issues };
  }
  const problems: SchemaProblem[] = state.problems;
  check(workflowShellSpec, value, [], problems, 'workflow');
  const workflow = workflowFromObject(value, source);
  if (workflow.replicaCatalog)
    problems.push(...replicaCatalogProblems(workflow.replicaCatalog, ['replicaCatalog'], true));
  if (workflow.transformationCatalog) {
    problems.push(
      ...transformationCatalogProblems(workflow.transformationCatalog, ['transformationCatalog']),
    );
  }
  const out = problems.map((p) => source.issue(p.path, p.message, p.onKey));
  out.push(...graphIssues(workflow, file, options.dataDependencies ?? true));
  return { workflow, issues: out };
}

export async function loadWorkflow(
  path: string,
  options: WorkflowLoadOptions = {},
): Promise<AbstractWorkflow> {
  const { workflow, issues } = await readWorkflowIssues(path, options);
  throwIfIssues(issues);
  return workflow;
}

function workflowFromObject(v: unknown, source: Source): AbstractWorkflow {
  const o = asObj(v);
  const wf: AbstractWorkflow = {
    pegasus: asStr(o.pegasus) ?? String(o.pegasus ?? ''),
    name: asStr(o.name) ?? '',
    // converted by JobReader as they were read
    jobs: asArr(o.jobs) as Job[],
    dependencies: asArr(o.jobDependencies) as Dependency[],
    profiles: readProfiles(o.profiles),
  };
  put(wf, 'version', asStr(o.version));
  put(wf, 'hooks', readHooks(o.hooks));
  put(wf, 'metadata', readMetadata(o.metadata));
  if (isPlainObject(o.siteCatalog)) {
    if ('$ref' in o.siteCatalog) put(wf, 'siteCatalogRef', asStr(o.siteCatalog.$ref));
    else wf.siteCatalog = siteCatalogFromObject(o.siteCatalog, source, ['siteCatalog']);
  }
  if (isPlainObject(o.replicaCatalog)) {
    wf.replicaCatalog = replicaCatalogFromObject(o.replicaCatalog, source, ['replicaCatalog']);
  }
  if (isPlainObject(o.transformationCatalog)) {
    wf.transformationCatalog = transformationCatalogFromObject(o.transformationCatalog, source, [
      'transformationCatalog',
    ]);
  }
  put(wf, 'extensions', readExtensions(o));
  setOrigin(wf, source, []);
  return wf;
}

function readJob(v: unknown, source: Source, index: number): Job {
  const o = asObj(v);
  const type = asStr(o.type) ?? 'job';
  const id = typeof o.id === 'string' ? o.id : '';
  const base = {
    id,
    arguments: asArr(o.arguments).filter(
      (a): a is string | number => typeof a === 'string' || typeof a === 'number',
    ),
    uses: asArr(o.uses).map(readUse),
    profiles: readProfiles(o.profiles),
  };
  let job: Job;
  if (type === 'pegasusWorkflow' || type === 'condorWorkflow') {
    const file = asStr(o.file) ?? '';
    job = { type, ...base, file };
    for (const u of job.uses) if (u.lfn === file) u.forPlanning = true;
  } else {
    job = { type: 'job', ...base, name: asStr(o.name) ?? '' };
    put(job, 'namespace', asStr(o.namespace));
    put(job, 'version', asStr(o.version));
  }
  put(job, 'stdin', asStr(o.stdin));
  put(job, 'stdout', asStr(o.stdout));
  put(job, 'stderr', asStr(o.stderr));
  put(job, 'hooks', readHooks(o.hooks));
  put(job, 'metadata', readMetadata(o.metadata));
  put(job, 'nodeLabel', asStr(o.nodeLabel));
  put(job, 'extensions', readExtensions(o));
  setItemOrigin(job, source, 'jobs', index);
  for (const u of job.uses) setUseOrigin(u, job);
  return job;
}

/** A file use; its origin is set by readJob (compactly, relative to the job's). */
function readUse(v: unknown): FileUse {
  const o = asObj(v);
  const u: FileUse = {
    lfn: asStr(o.lfn) ?? '',
    type: (asStr(o.type) ?? 'none') as LinkType,
    stageOut: asBool(o.stageOut) ?? true,
    registerReplica: asBool(o.registerReplica) ?? true,
    optional: asBool(o.optional) ?? false,
    bypass: asBool(o.bypass) ?? false,
    forPlanning: asBool(o.forPlanning) ?? false,
  };
  put(u, 'size', asStr(o.size));
  put(u, 'metadata', readMetadata(o.metadata));
  put(u, 'namespace', asStr(o.namespace));
  put(u, 'version', asStr(o.version));
  put(u, 'executable', asBool(o.executable));
  return u;
}

function readDependency(v: unknown, source: Source, index: number): Dependency {
  const o = asObj(v);
  const d: Dependency = {
    id: asStr(o.id) ?? '',
    children: asArr(o.children).map((c) => (typeof c === 'string' ? c : '')),
  };
  setItemOrigin(d, source, 'jobDependencies', index);
  return d;
}
