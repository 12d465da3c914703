import { readFile } from 'node:fs/promises';
import { type Issue, ModelError, throwIfIssues } from './errors.js';
import { parseReplicaCatalogIssues } from './load-replica-catalog.js';
import { type CatalogLoadOptions, parseSiteCatalogIssues } from './load-site-catalog.js';
import { parseTransformationCatalogIssues } from './load-transformation-catalog.js';
import { parseWorkflowIssues } from './load-workflow.js';
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
  const text = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      issues.push({
        file: path,
        line: 0,
        column: 0,
        message: `cannot read the file (${code}; expected a readable file)`,
      });
      return undefined;
    }
  };
  const [wfText, scText, tcText, rcText, propText] = await Promise.all([
    text(paths.workflow),
    paths.sites ? text(paths.sites) : undefined,
    paths.transformations ? text(paths.transformations) : undefined,
    paths.replicas ? text(paths.replicas) : undefined,
    paths.properties ? text(paths.properties) : undefined,
  ]);
  const out: Partial<LoadedInputs> = { properties: new Properties() };
  let wfOk = false;
  if (wfText !== undefined) {
    const r = parseWorkflowIssues(wfText, paths.workflow, {
      dataDependencies: options.dataDependencies ?? true,
    });
    issues.push(...r.issues);
    out.workflow = r.workflow;
    wfOk = r.issues.length === 0;
  }
  if (scText !== undefined && paths.sites) {
    const r = parseSiteCatalogIssues(scText, paths.sites, options);
    issues.push(...r.issues);
    out.siteCatalog = r.catalog;
  }
  if (tcText !== undefined && paths.transformations) {
    const r = parseTransformationCatalogIssues(tcText, paths.transformations, options);
    issues.push(...r.issues);
    out.transformationCatalog = r.catalog;
  }
  if (rcText !== undefined && paths.replicas) {
    const r = parseReplicaCatalogIssues(rcText, paths.replicas, options);
    issues.push(...r.issues);
    out.replicaCatalog = r.catalog;
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
