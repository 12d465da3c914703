import { addExtensions, profilesDoc, set, toYamlText, writeText } from './internal/write.js';
import type { Directory, FileServer, Grid, Site, SiteCatalog } from './site-catalog.js';

/** The plain document of a site catalog (`inline`: without the `pegasus` key when the model has none). */
export function siteCatalogToObject(
  sc: SiteCatalog,
  options: { inline?: boolean } = {},
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (!options.inline || sc.pegasus !== undefined) o.pegasus = sc.pegasus ?? '5.0';
  o.sites = sc.sites.map(siteDoc);
  return addExtensions(o, sc.extensions);
}

export function siteCatalogToYaml(sc: SiteCatalog): string {
  return toYamlText(siteCatalogToObject(sc));
}

export async function writeSiteCatalog(sc: SiteCatalog, path: string): Promise<void> {
  await writeText(path, siteCatalogToYaml(sc));
}

function siteDoc(s: Site): Record<string, unknown> {
  const o: Record<string, unknown> = { name: s.name };
  set(o, 'arch', s.arch);
  set(o, 'os.type', s.osType);
  set(o, 'os.release', s.osRelease);
  set(o, 'os.version', s.osVersion);
  if (s.directories.length > 0) o.directories = s.directories.map(directoryDoc);
  if (s.grids.length > 0) o.grids = s.grids.map(gridDoc);
  set(o, 'profiles', profilesDoc(s.profiles));
  return addExtensions(o, s.extensions);
}

function directoryDoc(d: Directory): Record<string, unknown> {
  const o: Record<string, unknown> = { type: d.type };
  set(o, 'path', d.path);
  if (d.sharedFileSystem) o.sharedFileSystem = true;
  set(o, 'freeSize', d.freeSize);
  set(o, 'totalSize', d.totalSize);
  o.fileServers = d.fileServers.map(fileServerDoc);
  return addExtensions(o, d.extensions);
}

function fileServerDoc(f: FileServer): Record<string, unknown> {
  const o: Record<string, unknown> = { url: f.url, operation: f.operation };
  set(o, 'profiles', profilesDoc(f.profiles));
  return addExtensions(o, f.extensions);
}

function gridDoc(g: Grid): Record<string, unknown> {
  const o: Record<string, unknown> = { type: g.type, contact: g.contact, scheduler: g.scheduler };
  set(o, 'jobtype', g.jobtype);
  for (const k of [
    'freeMem',
    'totalMem',
    'maxCount',
    'maxCPUTime',
    'runningJobs',
    'jobsInQueue',
    'idleNodes',
    'totalNodes',
  ] as const) {
    set(o, k, g[k]);
  }
  return addExtensions(o, g.extensions);
}
