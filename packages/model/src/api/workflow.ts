import { userInfo } from 'node:os';
import type { Issue } from '../errors.js';
import type { ReplicaCatalog as ReplicaCatalogModel } from '../replica-catalog.js';
import type { SiteCatalog as SiteCatalogModel } from '../site-catalog.js';
import type { TransformationCatalog as TransformationCatalogModel } from '../transformation-catalog.js';
import { type ValidateWorkflowOptions, validateWorkflow, workflowIssues } from '../validate-workflow.js';
import type { AbstractWorkflow, Dependency } from '../workflow.js';
import { WorkflowGraph } from '../workflow-graph.js';
import { workflowToYaml, writeWorkflow } from '../write-workflow.js';
import type { AnyJob } from './job.js';
import { Annotated, copyProfiles } from './profiled.js';
import type { ReplicaCatalog } from './replica-catalog.js';
import type { SiteCatalog } from './site-catalog.js';
import type { TransformationCatalog } from './transformation-catalog.js';

export interface WorkflowOptions {
  /** write data dependencies (producer -> consumer) into jobDependencies (default true) */
  inferDependencies?: boolean;
}

/** A workflow under construction; `write()` produces a Pegasus 5.0 `workflow.yml`. */
export class Workflow extends Annotated {
  readonly jobs: AnyJob[] = [];
  private readonly edges = new Map<AnyJob, Set<AnyJob>>();
  private siteCatalog: SiteCatalog | undefined;
  private replicaCatalog: ReplicaCatalog | undefined;
  private transformationCatalog: TransformationCatalog | undefined;
  private nextId = 1;
  private readonly ids = new Set<string>();

  constructor(
    readonly name: string,
    readonly options: WorkflowOptions = {},
  ) {
    super();
  }

  /** Adds jobs; a job without an id gets `ID0000001`, `ID0000002`, ... */
  addJobs(...jobs: AnyJob[]): this {
    for (const j of jobs) {
      if (j.id === undefined) {
        let id: string;
        do id = `ID${String(this.nextId++).padStart(7, '0')}`;
        while (this.ids.has(id));
        j.id = id;
      }
      if (this.ids.has(j.id)) throw new TypeError(`Workflow ${this.name}: duplicate job id ${j.id}`);
      this.ids.add(j.id);
      this.jobs.push(j);
    }
    return this;
  }

  /** Explicit edges: `job` before `children`, and `parents` before `job`. */
  addDependency(job: AnyJob, rel: { parents?: AnyJob[]; children?: AnyJob[] }): this {
    for (const c of rel.children ?? []) this.edge(job, c);
    for (const p of rel.parents ?? []) this.edge(p, job);
    return this;
  }

  private edge(p: AnyJob, c: AnyJob): void {
    let s = this.edges.get(p);
    if (!s) {
      s = new Set();
      this.edges.set(p, s);
    }
    s.add(c);
  }

  /** Inline catalogs (written inside workflow.yml). */
  addSiteCatalog(sc: SiteCatalog): this {
    this.siteCatalog = sc;
    return this;
  }
  addReplicaCatalog(rc: ReplicaCatalog): this {
    this.replicaCatalog = rc;
    return this;
  }
  addTransformationCatalog(tc: TransformationCatalog): this {
    this.transformationCatalog = tc;
    return this;
  }

  toModel(): AbstractWorkflow {
    const jobs = this.jobs.map((j) => j.toModel(j.id as string));
    const deps = new Map<string, string[]>();
    const add = (p: string, c: string): void => {
      const list = deps.get(p);
      if (!list) deps.set(p, [c]);
      else if (!list.includes(c)) list.push(c);
    };
    for (const [p, cs] of this.edges) for (const c of cs) add(p.id as string, c.id as string);
    const wf: AbstractWorkflow = {
      pegasus: '5.0',
      name: this.name,
      jobs,
      dependencies: [],
      profiles: copyProfiles(this.profiles),
      extensions: {
        'x-pegasus': { apiLang: 'typescript', createdBy: safeUser(), createdOn: new Date().toISOString() },
      },
    };
    if (this.options.inferDependencies ?? true) {
      for (const [p, c, kind] of new WorkflowGraph(wf).edges()) if (kind === 'data') add(p, c);
    }
    wf.dependencies = [...deps].map(([id, children]): Dependency => ({ id, children }));
    if (this.hooks) wf.hooks = { shell: this.hooks.shell.map((h) => ({ ...h })) };
    if (this.metadata) wf.metadata = { ...this.metadata };
    if (this.siteCatalog) wf.siteCatalog = this.siteCatalog.toModel();
    if (this.replicaCatalog) wf.replicaCatalog = this.replicaCatalog.toModel();
    if (this.transformationCatalog) wf.transformationCatalog = this.transformationCatalog.toModel();
    return wf;
  }

  toYaml(): string {
    return workflowToYaml(this.toModel());
  }

  async write(path = 'workflow.yml'): Promise<void> {
    await writeWorkflow(this.toModel(), path);
  }

  /** Every problem (graph, raw inputs without replica, unknown transformations) with these catalogs. */
  issues(catalogs: BuilderCatalogs = {}): Issue[] {
    return workflowIssues(this.toModel(), toValidateOptions(this.name, catalogs));
  }

  /** Throws ModelError when issues() is not empty. */
  validate(catalogs: BuilderCatalogs = {}): this {
    validateWorkflow(this.toModel(), toValidateOptions(this.name, catalogs));
    return this;
  }
}

/** Catalogs to validate against: builder objects or model objects. */
export interface BuilderCatalogs
  extends Omit<ValidateWorkflowOptions, 'transformationCatalog' | 'replicaCatalog' | 'siteCatalog'> {
  siteCatalog?: SiteCatalog | SiteCatalogModel;
  transformationCatalog?: TransformationCatalog | TransformationCatalogModel;
  replicaCatalog?: ReplicaCatalog | ReplicaCatalogModel | (ReplicaCatalog | ReplicaCatalogModel)[];
}

function toValidateOptions(name: string, c: BuilderCatalogs): ValidateWorkflowOptions {
  const model = <T>(x: { toModel(): T } | T): T =>
    typeof (x as { toModel?: unknown }).toModel === 'function' ? (x as { toModel(): T }).toModel() : (x as T);
  const o: ValidateWorkflowOptions = { file: name, ...c } as ValidateWorkflowOptions;
  if (c.siteCatalog) o.siteCatalog = model<SiteCatalogModel>(c.siteCatalog);
  if (c.transformationCatalog)
    o.transformationCatalog = model<TransformationCatalogModel>(c.transformationCatalog);
  if (c.replicaCatalog) {
    const list = Array.isArray(c.replicaCatalog) ? c.replicaCatalog : [c.replicaCatalog];
    o.replicaCatalog = list.map((r) => model<ReplicaCatalogModel>(r));
  }
  return o;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
