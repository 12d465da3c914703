import { createHash } from 'node:crypto';
import {
  findDirectory,
  findSite,
  getProfile,
  locationOf,
  type Properties,
  type ReplicaIndex,
  type Site,
  type SiteCatalog,
  type TransformationCatalog,
} from '@pegasus-ts/model';
import { PlanError } from './errors.js';
import type { SubWorkflowSetup } from './passes/sub-workflows.js';

export type DataConfiguration = 'sharedfs' | 'nonsharedfs' | 'condorio';

/** Everything the passes need besides the workflow: catalogs, properties and the resolved options. */
export interface PlanContext {
  /** workflow label (its name) */
  label: string;
  /** relative execution directory appended to each staging site's sharedScratch */
  relativeDir: string;
  siteCatalog: SiteCatalog;
  transformationCatalogs: TransformationCatalog[];
  replicas: ReplicaIndex;
  properties: Properties;
  /** candidate execution sites (--sites) */
  executionSites: string[];
  /** --staging-site: `*` or an execution site -> staging site */
  stagingSites: Map<string, string>;
  /** --output-sites */
  outputSites: string[];
  /** --output-dir: the storage directory (absolute path) of the output site `local` instead of its catalog's */
  outputDir?: string;
  /** dagman.retry (default 1) */
  defaultRetries: number;
  /** the sub-workflow jobs' files and what they are planned with (plan(); absent: none allowed) */
  subWorkflows?: SubWorkflowSetup;
}

export function siteOf(ctx: PlanContext, name: string): Site {
  const s = findSite(ctx.siteCatalog, name);
  if (!s) throw new PlanError(`unknown site "${name}" (expected a site of the site catalog)`);
  return s;
}

function joinUrl(base: string, rel: string): string {
  if (!rel) return base;
  return `${base.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`;
}

const workDirCache = new WeakMap<PlanContext, Map<string, { path: string; url: string }>>();

/**
 * The work directory of a staging site: `<sharedScratch path>/<relativeDir>` and its URL (the
 * first file server that allows put; else a file:// URL of the path).
 */
export function workDirOf(ctx: PlanContext, siteName: string): { path: string; url: string } {
  let m = workDirCache.get(ctx);
  if (!m) {
    m = new Map();
    workDirCache.set(ctx, m);
  }
  const hit = m.get(siteName);
  if (hit) return hit;
  const site = siteOf(ctx, siteName);
  const dir = findDirectory(site, 'sharedScratch') ?? findDirectory(site, 'localScratch');
  if (!dir?.path && !dir?.fileServers.length) {
    throw new PlanError(
      `site "${siteName}" has no sharedScratch directory (expected a sharedScratch directory on every staging site)`,
    );
  }
  const server = dir.fileServers.find((f) => f.operation !== 'get') ?? dir.fileServers[0];
  const base = dir.path ?? '';
  const path = joinUrl(base, ctx.relativeDir);
  const url = server ? joinUrl(server.url, ctx.relativeDir) : `file://${path}`;
  const out = { path, url };
  m.set(siteName, out);
  return out;
}

/**
 * The storage directory URL of an output site (localStorage preferred, else sharedStorage; site
 * `local` with `--output-dir`: that directory).
 */
export function storageUrlOf(ctx: PlanContext, siteName: string): string {
  if (ctx.outputDir !== undefined && siteName === 'local') return `file://${ctx.outputDir}`;
  const site = siteOf(ctx, siteName);
  const dir = findDirectory(site, 'localStorage') ?? findDirectory(site, 'sharedStorage');
  if (!dir) {
    throw new PlanError(
      `output site "${siteName}" has no localStorage or sharedStorage directory (expected one for outputs)`,
    );
  }
  const server = dir.fileServers.find((f) => f.operation !== 'get') ?? dir.fileServers[0];
  let base = server ? server.url : `file://${dir.path ?? ''}`;
  if (ctx.properties.getBoolean('pegasus.dir.storage.deep', false)) base = joinUrl(base, ctx.relativeDir);
  return base;
}

/**
 * Where an output goes on an output site: `<storage dir>/<lfn>` with `pegasus.dir.storage.mapper`
 * `Flat` (the default), or `<storage dir>/<XX>/<lfn>` with `Hashed`, XX the first two hex digits
 * of the lfn's sha256, so thousands of outputs spread over 256 sub-directories.
 */
export function outputUrlOf(ctx: PlanContext, siteName: string, lfn: string): string {
  const base = storageUrlOf(ctx, siteName);
  const mapper = ctx.properties.get('pegasus.dir.storage.mapper') ?? 'Flat';
  if (mapper === 'Flat') return `${base}/${lfn}`;
  if (mapper === 'Hashed')
    return `${base}/${createHash('sha256').update(lfn).digest('hex').slice(0, 2)}/${lfn}`;
  throw new PlanError(`pegasus.dir.storage.mapper is "${mapper}" (expected Flat or Hashed)`);
}

/** Whether auxiliary jobs for a site may run on the submit host (pegasus profile `auxillary.local`). */
export function auxillaryLocal(ctx: PlanContext, siteName: string): boolean {
  if (siteName === 'local') return true;
  const v = getProfile(findSite(ctx.siteCatalog, siteName)?.profiles, 'pegasus', 'auxillary.local');
  return String(v).toLowerCase() === 'true';
}

/** The staging site of jobs on an execution site, for a data configuration. */
export function stagingSiteFor(ctx: PlanContext, execSite: string, config: DataConfiguration): string {
  if (config === 'sharedfs') return execSite;
  if (config === 'condorio') return 'local';
  return ctx.stagingSites.get(execSite) ?? ctx.stagingSites.get('*') ?? execSite;
}

/**
 * `FILE:LINE:COL: ` of where a pegasus profile key of a site is set (its site catalog entry, else
 * the properties file), for errors about its value; '' when it was set in code or by `-D`.
 */
export function profileWhere(ctx: PlanContext, siteName: string, key: string): string {
  const site = findSite(ctx.siteCatalog, siteName);
  const at =
    (site && getProfile(site.profiles, 'pegasus', key) !== undefined
      ? locationOf(site, 'profiles', 'pegasus', key)
      : undefined) ?? ctx.properties.locate(`pegasus.${key}`);
  return at ? `${at.file}:${at.line}:${at.column}: ` : '';
}
