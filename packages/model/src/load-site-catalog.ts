import { type Issue, throwIfIssues } from './errors.js';
import { expandEnv } from './internal/expand-env.js';
import {
  asArr,
  asBool,
  asNum,
  asObj,
  asStr,
  put,
  readExtensions,
  readProfiles,
  readYaml,
  readYamlFile,
  type YamlRead,
} from './internal/read.js';
import { check, type SchemaProblem } from './internal/schema.js';
import { type Path, type Source, setOrigin } from './internal/source.js';
import { siteCatalogSpec } from './internal/specs.js';
import type {
  Arch,
  Directory,
  DirectoryType,
  FileServer,
  FileServerOperation,
  Grid,
  GridJobType,
  GridType,
  OsType,
  SchedulerType,
  Site,
  SiteCatalog,
} from './site-catalog.js';

export interface CatalogLoadOptions {
  /** environment for `${VAR}` expansion (default process.env); `false` turns expansion off */
  env?: Record<string, string | undefined> | false;
}

/** Parses a standalone site catalog (`sites.yml`). Throws ModelError with every problem. */
export function parseSiteCatalog(
  text: string,
  file = 'sites.yml',
  options: CatalogLoadOptions = {},
): SiteCatalog {
  const { catalog, issues } = parseSiteCatalogIssues(text, file, options);
  throwIfIssues(issues);
  return catalog;
}

/** Like parseSiteCatalog, but returns the problems instead of throwing. */
export function parseSiteCatalogIssues(
  text: string,
  file = 'sites.yml',
  options: CatalogLoadOptions = {},
): { catalog: SiteCatalog; issues: Issue[] } {
  return siteCatalogFromRead(readYaml(text, file), options);
}

/** @internal reads a site catalog file (streamed) and returns the problems instead of throwing. */
export async function readSiteCatalogIssues(
  path: string,
  options: CatalogLoadOptions = {},
): Promise<{ catalog: SiteCatalog; issues: Issue[] }> {
  return siteCatalogFromRead(await readYamlFile(path), options);
}

function siteCatalogFromRead(
  read: YamlRead,
  options: CatalogLoadOptions,
): { catalog: SiteCatalog; issues: Issue[] } {
  const { value, source, issues } = read;
  if (issues.length > 0) return { catalog: { sites: [] }, issues };
  const problems: SchemaProblem[] = [];
  const v = options.env === false ? value : expandEnv(value, options.env ?? process.env, [], problems);
  check(siteCatalogSpec, v, [], problems, 'site catalog');
  return {
    catalog: siteCatalogFromObject(v, source, []),
    issues: problems.map((p) => source.issue(p.path, p.message, p.onKey)),
  };
}

/** Reads and parses a site catalog file. */
export async function loadSiteCatalog(path: string, options: CatalogLoadOptions = {}): Promise<SiteCatalog> {
  const { catalog, issues } = await readSiteCatalogIssues(path, options);
  throwIfIssues(issues);
  return catalog;
}

/** @internal builds the model from a (possibly invalid) plain object */
export function siteCatalogFromObject(v: unknown, source: Source, path: Path): SiteCatalog {
  const o = asObj(v);
  const sc: SiteCatalog = {
    sites: asArr(o.sites).map((s, i) => readSite(s, source, [...path, 'sites', i])),
  };
  put(sc, 'pegasus', asStr(o.pegasus));
  put(sc, 'extensions', readExtensions(o));
  setOrigin(sc, source, path);
  return sc;
}

function readSite(v: unknown, source: Source, path: Path): Site {
  const o = asObj(v);
  const site: Site = {
    name: asStr(o.name) ?? '',
    directories: asArr(o.directories).map((d, i) => readDirectory(d, source, [...path, 'directories', i])),
    grids: asArr(o.grids).map((g, i) => readGrid(g, source, [...path, 'grids', i])),
    profiles: readProfiles(o.profiles),
  };
  put(site, 'arch', asStr(o.arch) as Arch | undefined);
  put(site, 'osType', asStr(o['os.type']) as OsType | undefined);
  put(site, 'osRelease', asStr(o['os.release']));
  put(site, 'osVersion', asStr(o['os.version']));
  put(site, 'extensions', readExtensions(o));
  setOrigin(site, source, path);
  return site;
}

function readDirectory(v: unknown, source: Source, path: Path): Directory {
  const o = asObj(v);
  const d: Directory = {
    type: (asStr(o.type) ?? 'sharedScratch') as DirectoryType,
    sharedFileSystem: asBool(o.sharedFileSystem) ?? false,
    fileServers: asArr(o.fileServers).map((f, i) => readFileServer(f, source, [...path, 'fileServers', i])),
  };
  put(d, 'path', asStr(o.path));
  put(d, 'freeSize', asStr(o.freeSize));
  put(d, 'totalSize', asStr(o.totalSize));
  put(d, 'extensions', readExtensions(o));
  setOrigin(d, source, path);
  return d;
}

function readFileServer(v: unknown, source: Source, path: Path): FileServer {
  const o = asObj(v);
  const f: FileServer = {
    url: asStr(o.url) ?? '',
    operation: (asStr(o.operation) ?? 'all') as FileServerOperation,
    profiles: readProfiles(o.profiles),
  };
  put(f, 'extensions', readExtensions(o));
  setOrigin(f, source, path);
  return f;
}

function readGrid(v: unknown, source: Source, path: Path): Grid {
  const o = asObj(v);
  const g: Grid = {
    type: (asStr(o.type) ?? 'batch') as GridType,
    contact: asStr(o.contact) ?? '',
    scheduler: (asStr(o.scheduler) ?? 'unknown') as SchedulerType,
  };
  put(g, 'jobtype', asStr(o.jobtype) as GridJobType | undefined);
  for (const k of ['freeMem', 'totalMem', 'maxCount', 'maxCPUTime'] as const) put(g, k, asStr(o[k]));
  for (const k of ['runningJobs', 'jobsInQueue', 'idleNodes', 'totalNodes'] as const) put(g, k, asNum(o[k]));
  put(g, 'extensions', readExtensions(o));
  setOrigin(g, source, path);
  return g;
}
