import { type Issue, throwIfIssues } from './errors.js';
import { issueAt, originOf } from './internal/source.js';
import { getProfile } from './profiles.js';
import { type ReplicaCatalog, ReplicaIndex } from './replica-catalog.js';
import type { SiteCatalog } from './site-catalog.js';
import {
  findTransformations,
  formatTransformationRef,
  type TransformationCatalog,
} from './transformation-catalog.js';
import { type AbstractWorkflow, isOutputUse, jobTransformation } from './workflow.js';
import { WorkflowGraph } from './workflow-graph.js';

/** The catalogs a workflow is checked against (inline catalogs of the workflow are always used too). */
export interface WorkflowCatalogs {
  siteCatalog?: SiteCatalog;
  transformationCatalog?: TransformationCatalog;
  /** searched after the workflow's inline replica catalog, in order */
  replicaCatalog?: ReplicaCatalog | ReplicaCatalog[];
}

export interface ValidateWorkflowOptions extends WorkflowCatalogs {
  /** infer data edges (default true) */
  dataDependencies?: boolean;
  /** report inputs with neither producer nor replica (default true) */
  checkReplicas?: boolean;
  /** report unknown transformations (default: when a transformation catalog is available) */
  checkTransformations?: boolean;
  /** extra LFNs known to exist (e.g. from --input-dir) */
  knownInputs?: ReadonlySet<string>;
  /** file name used for objects built in code (default the workflow name) */
  file?: string;
}

/**
 * Every problem of a workflow: the graph rules (duplicate ids, dangling ids in jobDependencies,
 * a cycle, an LFN both input and output of one job), inputs that no job produces and no replica
 * catalog knows (unless `optional`), and jobs whose transformation no catalog has (jobs with a
 * `selector.pfn` profile bypass the catalog). Positioned when the workflow was loaded from a file.
 */
export function workflowIssues(wf: AbstractWorkflow, options: ValidateWorkflowOptions = {}): Issue[] {
  const file = options.file ?? originOf(wf)?.source.file ?? wf.name;
  return [...graphIssues(wf, file, options.dataDependencies ?? true), ...referenceIssues(wf, options)];
}

/** @internal the checks that need the catalogs: raw inputs without replica, unknown transformations. */
export function referenceIssues(wf: AbstractWorkflow, options: ValidateWorkflowOptions = {}): Issue[] {
  const file = options.file ?? originOf(wf)?.source.file ?? wf.name;
  const issues: Issue[] = [];
  if (options.checkReplicas ?? true) {
    const extra = options.replicaCatalog;
    const rcs = [wf.replicaCatalog, ...(Array.isArray(extra) ? extra : [extra])];
    const index = new ReplicaIndex(rcs);
    const produced = new Set<string>();
    for (const j of wf.jobs) for (const u of j.uses) if (isOutputUse(u)) produced.add(u.lfn);
    for (const job of wf.jobs) {
      job.uses.forEach((u, k) => {
        if (u.type !== 'input' || u.optional || produced.has(u.lfn) || options.knownInputs?.has(u.lfn))
          return;
        // a sub-workflow's own file: found by the planner (a replica, else beside the workflow)
        if (u.forPlanning && job.type !== 'job') return;
        if (index.has(u.lfn)) return;
        issues.push(
          issueAt(
            job,
            ['uses', k, 'lfn'],
            `input "${u.lfn}" of job ${job.id} is produced by no job and has no replica (expected a replica catalog entry, a producing job, or optional: true)`,
            file,
          ),
        );
      });
    }
  }
  const tcs = [wf.transformationCatalog, options.transformationCatalog].filter((t) => t !== undefined);
  if (options.checkTransformations ?? tcs.length > 0) {
    for (const job of wf.jobs) {
      if (job.type !== 'job') continue;
      if (getProfile(job.profiles, 'selector', 'pfn') !== undefined) continue;
      const ref = jobTransformation(job);
      if (findTransformations(tcs, ref).length > 0) continue;
      issues.push(
        issueAt(
          job,
          ['name'],
          `unknown transformation "${formatTransformationRef(ref)}" for job ${job.id} (expected an entry in the transformation catalog)`,
          file,
        ),
      );
    }
  }
  return issues;
}

/** Throws a ModelError listing every problem workflowIssues finds. */
export function validateWorkflow(wf: AbstractWorkflow, options: ValidateWorkflowOptions = {}): void {
  throwIfIssues(workflowIssues(wf, options));
}

/** @internal the checks that need no catalog */
export function graphIssues(wf: AbstractWorkflow, file: string, dataDependencies: boolean): Issue[] {
  const issues: Issue[] = [];
  const first = new Map<string, number>();
  wf.jobs.forEach((job, i) => {
    if (job.id === '') return;
    const prev = first.get(job.id);
    if (prev === undefined) {
      first.set(job.id, i);
      return;
    }
    const o = originOf(wf.jobs[prev]);
    const where = o ? ` (first defined at line ${o.source.locate([...o.path, 'id']).line})` : '';
    issues.push(issueAt(job, ['id'], `duplicate job id "${job.id}"${where} (expected unique ids)`, file));
  });
  for (const d of wf.dependencies) {
    if (d.id !== '' && !first.has(d.id)) {
      issues.push(
        issueAt(d, ['id'], `jobDependencies names unknown job id "${d.id}" (expected the id of a job)`, file),
      );
    }
    d.children.forEach((c, k) => {
      if (c !== '' && !first.has(c)) {
        issues.push(
          issueAt(
            d,
            ['children', k],
            `jobDependencies names unknown child job id "${c}" (expected the id of a job)`,
            file,
          ),
        );
      }
    });
  }
  for (const job of wf.jobs) {
    const ins = new Set<string>();
    const outs = new Map<string, number>();
    job.uses.forEach((u, k) => {
      if (u.type === 'input') ins.add(u.lfn);
      else if (u.type === 'output') outs.set(u.lfn, k);
    });
    for (const [lfn, k] of outs) {
      if (ins.has(lfn)) {
        issues.push(
          issueAt(
            job,
            ['uses', k],
            `file "${lfn}" is both input and output of job ${job.id} (expected type inout or checkpoint)`,
            file,
          ),
        );
      }
    }
  }
  const graph = new WorkflowGraph(wf, { dataDependencies });
  const cycle = graph.findCycle();
  if (cycle) {
    const ids = cycle.map((i) => wf.jobs[i].id);
    const [a, b] = [cycle[cycle.length - 2], cycle[cycle.length - 1]];
    const msg = `dependency cycle ${ids.join(' -> ')} (expected an acyclic graph)`;
    issues.push(edgeIssue(wf, graph, a, b, msg, file));
  }
  return issues;
}

/** An issue positioned at the place that declares the edge p -> c. */
function edgeIssue(
  wf: AbstractWorkflow,
  graph: WorkflowGraph,
  p: number,
  c: number,
  msg: string,
  file: string,
): Issue {
  const parent = wf.jobs[p];
  const child = wf.jobs[c];
  if (graph.edgeKind(p, c) === 'explicit') {
    for (const d of wf.dependencies) {
      if (d.id !== parent.id) continue;
      const k = d.children.indexOf(child.id);
      if (k >= 0) return issueAt(d, ['children', k], msg, file);
    }
  }
  const outs = new Set(parent.uses.filter(isOutputUse).map((u) => u.lfn));
  const k = child.uses.findIndex((u) => u.type === 'input' && outs.has(u.lfn));
  return issueAt(child, k >= 0 ? ['uses', k] : ['id'], msg, file);
}
