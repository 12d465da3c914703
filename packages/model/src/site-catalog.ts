import type { Extensions } from './common.js';
import { isProfileNamespace, type Profiles } from './profiles.js';

export type Arch =
  | 'x86'
  | 'x86_64'
  | 'ppc'
  | 'ppc_64'
  | 'ppc64le'
  | 'ia64'
  | 'sparcv7'
  | 'sparcv9'
  | 'amd64'
  | 'aarch64';
export type OsType = 'linux' | 'sunos' | 'macosx' | 'aix' | 'windows';
export type DirectoryType = 'sharedScratch' | 'sharedStorage' | 'localScratch' | 'localStorage';
export type FileServerOperation = 'all' | 'put' | 'get';
export type GridType =
  | 'gt5'
  | 'condor'
  | 'cream'
  | 'batch'
  | 'nordugrid'
  | 'unicore'
  | 'ec2'
  | 'deltacloud'
  | 'sfapi';
export type SchedulerType = 'fork' | 'pbs' | 'lsf' | 'condor' | 'sge' | 'slurm' | 'flux' | 'unknown';
export type GridJobType = 'compute' | 'auxillary' | 'transfer' | 'register' | 'cleanup';

/** External view of a directory: `url` + path relative to `Directory.path`. */
export interface FileServer {
  url: string;
  /** default `all` (filled in at load time) */
  operation: FileServerOperation;
  profiles: Profiles;
  extensions?: Extensions;
}

export interface Directory {
  type: DirectoryType;
  path?: string;
  /** default false (filled in at load time) */
  sharedFileSystem: boolean;
  freeSize?: string;
  totalSize?: string;
  fileServers: FileServer[];
  extensions?: Extensions;
}

export interface Grid {
  type: GridType;
  contact: string;
  scheduler: SchedulerType;
  jobtype?: GridJobType;
  freeMem?: string;
  totalMem?: string;
  maxCount?: string;
  maxCPUTime?: string;
  runningJobs?: number;
  jobsInQueue?: number;
  idleNodes?: number;
  totalNodes?: number;
  extensions?: Extensions;
}

export interface Site {
  name: string;
  /** absent means the planner default, x86_64 */
  arch?: Arch;
  /** absent means the planner default, linux (YAML key `os.type`) */
  osType?: OsType;
  osRelease?: string;
  osVersion?: string;
  directories: Directory[];
  grids: Grid[];
  profiles: Profiles;
  /** `x-*` keys, including the 5.1 `x-tags` (see siteTags) */
  extensions?: Extensions;
}

export interface SiteCatalog {
  /** format version ("5.0"); absent in an inline catalog */
  pegasus?: string;
  sites: Site[];
  extensions?: Extensions;
}

export function findSite(sc: SiteCatalog | undefined, name: string): Site | undefined {
  return sc?.sites.find((s) => s.name === name);
}

/** The directory of a given type on a site, if any. */
export function findDirectory(site: Site, type: DirectoryType): Directory | undefined {
  return site.directories.find((d) => d.type === type);
}

/** The 5.1 `x-tags: [{name, profiles}]` extension of a site (ill-formed entries are skipped). */
export function siteTags(site: Site): { name: string; profiles: Profiles }[] {
  const raw = site.extensions?.['x-tags'];
  if (!Array.isArray(raw)) return [];
  const out: { name: string; profiles: Profiles }[] = [];
  for (const t of raw) {
    if (typeof t !== 'object' || t === null || typeof (t as { name?: unknown }).name !== 'string') continue;
    const profiles: Profiles = {};
    const p = (t as { profiles?: unknown }).profiles;
    if (typeof p === 'object' && p !== null) {
      for (const [ns, m] of Object.entries(p)) {
        if (isProfileNamespace(ns) && typeof m === 'object' && m !== null) {
          profiles[ns] = { ...(m as Record<string, string | number>) };
        }
      }
    }
    out.push({ name: (t as { name: string }).name, profiles });
  }
  return out;
}
