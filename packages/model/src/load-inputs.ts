import { readFile } from 'node:fs/promises';
import { type Issue, ModelError, throwIfIssues } from './errors.js';
import { readReplicaCatalogIssues } from './load-replica-catalog.js';
import { type CatalogLoadOptions, readSiteCatalogIssues } from './load-site-catalog.js';
import { readTransformationCatalogIssues } from './load-transformation-catalog.js';
import { readWorkflowIssues } from './load-workflow.js';
import { Properties } from './properties.js';
import type { ReplicaCatalog } from './replica-catalog.js';
import type { SiteCatalog } from './site-catalog.js';
import type { TransformationCatalog } from './transformation-catalog.js';
import { referenceIssues } from './validate-workflow.js';
import type { AbstractWorkflow } from './workflow.js';

/** The files a plan reads; every one but the workflow is optional. */
export interface InputPaths {
  workflow: string;
  sites?: string;
  transformations?: string;
  replicas?: string;
  properties?: string;
}

export interface LoadedInputs {
  workflow: AbstractWorkflow;
  siteCatalog?: SiteCatalog;
  transformationCatalog?: TransformationCatalog;
  replicaCatalog?: ReplicaCatalog;
  properties: Properties;
}

export interface LoadInputsOptions extends CatalogLoadOptions {
  /** check raw inputs against the replica catalogs and jobs against the TC (default true) */
  checkReferences?: boolean;
  /** LFNs known to exist besides the replica catalogs (e.g. an --input-dir listing) */
  knownInputs?: ReadonlySet<string>;
  dataDependencies?: boolean;
}

/**
 * Loads the workflow, catalogs and properties together and checks them against each other.
 * Throws one ModelError listing every problem of every file (schema, graph, references).
 */
export async function loadInputs(paths: InputPaths, options: LoadInputsOptions = {}): Promise<LoadedInputs> {
  const issues: Issue[] = [];
  const cannotRead = (path: string, e: unknown): undefined => {
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    issues.push({
      file: path,
      line: 0,
      column: 0,
      message: `cannot read the file (${code}; expected a readable file)`,
    });
    return undefined;
  };
  /** reads one file; a file system error becomes an issue */
  const read = async <T>(path: string, fn: (path: string) => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn(path);
    } catch (e) {
      return cannotRead(path, e);
    }
  };
  const [wf, sc, tc, rc, propText] = await Promise.all([
    read(paths.workflow, (p) =>
      readWorkflowIssues(p, { dataDependencies: options.dataDependencies ?? true }),
    ),
    paths.sites ? read(paths.sites, (p) => readSiteCatalogIssues(p, options)) : undefined,
    paths.transformations
      ? read(paths.transformations, (p) => readTransformationCatalogIssues(p, options))
      : undefined,
    paths.replicas ? read(paths.replicas, (p) => readReplicaCatalogIssues(p, options)) : undefined,
    paths.properties ? read(paths.properties, (p) => readFile(p, 'utf8')) : undefined,
  ]);
  const out: Partial<LoadedInputs> = { properties: new Properties() };
  let wfOk = false;
  if (wf) {
    issues.push(...wf.issues);
    out.workflow = wf.workflow;
    wfOk = wf.issues.length === 0;
  }
  if (sc) {
    issues.push(...sc.issues);
    out.siteCatalog = sc.catalog;
  }
  if (tc) {
    issues.push(...tc.issues);
    out.transformationCatalog = tc.catalog;
  }
  if (rc) {
    issues.push(...rc.issues);
    out.replicaCatalog = rc.catalog;
  }
  if (propText !== undefined && paths.properties) {
    try {
      out.properties = Properties.parse(propText, paths.properties);
    } catch (e) {
      if (e instanceof ModelError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (wfOk && out.workflow && (options.checkReferences ?? true)) {
    const refs: Parameters<typeof referenceIssues>[1] = {
      dataDependencies: options.dataDependencies ?? true,
    };
    if (out.transformationCatalog) refs.transformationCatalog = out.transformationCatalog;
    if (out.replicaCatalog) refs.replicaCatalog = out.replicaCatalog;
    if (options.knownInputs) refs.knownInputs = options.knownInputs;
    issues.push(...referenceIssues(out.workflow, refs));
  }
  throwIfIssues(issues);
  return out as LoadedInputs;
}
