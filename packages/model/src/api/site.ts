import type {
  Arch,
  DirectoryType,
  FileServerOperation,
  GridJobType,
  Grid as GridModel,
  GridType,
  OsType,
  SchedulerType,
  Site as SiteModel,
} from '../site-catalog.js';
import { copyProfiles, Profiled } from './profiled.js';

/** The external view of a directory: `url` (+ path relative to the directory). */
export class FileServer extends Profiled {
  constructor(
    readonly url: string,
    readonly operation: FileServerOperation = 'all',
  ) {
    super();
  }
}

/** A directory of a site (`Directory.SHARED_SCRATCH`, ...) with its file servers. */
export class Directory {
  static readonly SHARED_SCRATCH: DirectoryType = 'sharedScratch';
  static readonly SHARED_STORAGE: DirectoryType = 'sharedStorage';
  static readonly LOCAL_SCRATCH: DirectoryType = 'localScratch';
  static readonly LOCAL_STORAGE: DirectoryType = 'localStorage';
  readonly fileServers: FileServer[] = [];
  constructor(
    readonly type: DirectoryType,
    readonly path: string,
    readonly options: { sharedFileSystem?: boolean; freeSize?: string; totalSize?: string } = {},
  ) {}
  addFileServers(...fs: FileServer[]): this {
    this.fileServers.push(...fs);
    return this;
  }
}

export interface GridOptions {
  jobtype?: GridJobType;
  freeMem?: string;
  totalMem?: string;
  maxCount?: string;
  maxCPUTime?: string;
  runningJobs?: number;
  jobsInQueue?: number;
  idleNodes?: number;
  totalNodes?: number;
}

/** A job-submission gateway of a site, e.g. `new Grid('batch', 'login.example.org', 'slurm')`. */
export class Grid {
  constructor(
    readonly type: GridType,
    readonly contact: string,
    readonly scheduler: SchedulerType,
    readonly options: GridOptions = {},
  ) {}
  toModel(): GridModel {
    const g: GridModel = { type: this.type, contact: this.contact, scheduler: this.scheduler };
    for (const [k, v] of Object.entries(this.options))
      if (v !== undefined) (g as unknown as Record<string, unknown>)[k] = v;
    return g;
  }
}

export interface SiteOptions {
  arch?: Arch;
  osType?: OsType;
  osRelease?: string;
  osVersion?: string;
}

/** A site: where jobs run or data lives. */
export class Site extends Profiled {
  readonly directories: Directory[] = [];
  readonly grids: Grid[] = [];
  constructor(
    readonly name: string,
    readonly options: SiteOptions = {},
  ) {
    super();
  }
  addDirectories(...ds: Directory[]): this {
    this.directories.push(...ds);
    return this;
  }
  addGrids(...gs: Grid[]): this {
    this.grids.push(...gs);
    return this;
  }
  toModel(): SiteModel {
    const o = this.options;
    const s: SiteModel = {
      name: this.name,
      directories: this.directories.map((d) => {
        if (d.fileServers.length === 0)
          throw new TypeError(`Site ${this.name}: directory ${d.path} needs a file server`);
        const dm: SiteModel['directories'][number] = {
          type: d.type,
          path: d.path,
          sharedFileSystem: d.options.sharedFileSystem ?? false,
          fileServers: d.fileServers.map((f) => ({
            url: f.url,
            operation: f.operation,
            profiles: copyProfiles(f.profiles),
          })),
        };
        if (d.options.freeSize !== undefined) dm.freeSize = d.options.freeSize;
        if (d.options.totalSize !== undefined) dm.totalSize = d.options.totalSize;
        return dm;
      }),
      grids: this.grids.map((g) => g.toModel()),
      profiles: copyProfiles(this.profiles),
    };
    if (o.arch) s.arch = o.arch;
    if (o.osType) s.osType = o.osType;
    if (o.osRelease) s.osRelease = o.osRelease;
    if (o.osVersion) s.osVersion = o.osVersion;
    return s;
  }
}
