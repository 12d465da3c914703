import type { Checksum } from '../common.js';
import type { Arch, OsType } from '../site-catalog.js';
import type {
  Container as ContainerModel,
  ContainerType,
  Transformation as TransformationModel,
  TransformationSite as TransformationSiteModel,
} from '../transformation-catalog.js';
import { formatTransformationRef } from '../transformation-catalog.js';
import { Annotated, copyProfiles, Profiled } from './profiled.js';

export interface TransformationSiteOptions {
  arch?: Arch;
  osType?: OsType;
  osRelease?: string;
  osVersion?: string;
  container?: Container | string;
  bypass?: boolean;
}

/** Where a transformation lives: an installed path on a site, or a stageable URL. */
export class TransformationSite extends Profiled {
  metadata: Record<string, string | number> | undefined;
  constructor(
    readonly name: string,
    readonly pfn: string,
    readonly isStageable = false,
    readonly options: TransformationSiteOptions = {},
  ) {
    super();
  }
  addMetadata(entries: Record<string, string | number>): this {
    this.metadata = { ...this.metadata, ...entries };
    return this;
  }
  toModel(): TransformationSiteModel {
    const o = this.options;
    const s: TransformationSiteModel = {
      name: this.name,
      pfn: this.pfn,
      type: this.isStageable ? 'stageable' : 'installed',
      profiles: copyProfiles(this.profiles),
    };
    if (o.arch) s.arch = o.arch;
    if (o.osType) s.osType = o.osType;
    if (o.osRelease) s.osRelease = o.osRelease;
    if (o.osVersion) s.osVersion = o.osVersion;
    if (o.container) s.container = typeof o.container === 'string' ? o.container : o.container.name;
    if (o.bypass !== undefined) s.bypass = o.bypass;
    if (this.metadata) s.metadata = { ...this.metadata };
    return s;
  }
}

export interface TransformationOptions extends TransformationSiteOptions {
  namespace?: string;
  version?: string;
  /** shorthand for one site: `site` + `pfn` (+ `isStageable`) */
  site?: string;
  pfn?: string;
  isStageable?: boolean;
  checksum?: Checksum;
}

/** An executable, with the sites where it exists. */
export class Transformation extends Annotated {
  readonly namespace: string | undefined;
  readonly version: string | undefined;
  readonly sites: TransformationSite[] = [];
  readonly requires: string[] = [];
  checksum: Checksum | undefined;

  constructor(
    readonly name: string,
    options: TransformationOptions = {},
  ) {
    super();
    this.namespace = options.namespace;
    this.version = options.version;
    this.checksum = options.checksum;
    if (options.site !== undefined || options.pfn !== undefined) {
      if (options.site === undefined || options.pfn === undefined) {
        throw new TypeError(`Transformation ${name}: give both site and pfn`);
      }
      this.sites.push(
        new TransformationSite(options.site, options.pfn, options.isStageable ?? false, options),
      );
    }
  }

  addSites(...sites: TransformationSite[]): this {
    this.sites.push(...sites);
    return this;
  }

  /** Another transformation whose executable every job of this one needs. */
  addRequirement(t: Transformation | string): this {
    this.requires.push(typeof t === 'string' ? t : formatTransformationRef(t));
    return this;
  }

  toModel(): TransformationModel {
    if (this.sites.length === 0) throw new TypeError(`Transformation ${this.name}: add at least one site`);
    const t: TransformationModel = {
      name: this.name,
      sites: this.sites.map((s) => s.toModel()),
      requires: [...this.requires],
      profiles: copyProfiles(this.profiles),
    };
    if (this.namespace !== undefined) t.namespace = this.namespace;
    if (this.version !== undefined) t.version = this.version;
    if (this.hooks) t.hooks = { shell: this.hooks.shell.map((h) => ({ ...h })) };
    if (this.metadata) t.metadata = { ...this.metadata };
    if (this.checksum) t.checksum = { ...this.checksum };
    return t;
  }
}

export interface ContainerOptions {
  mounts?: string[];
  imageSite?: string;
  checksum?: Checksum;
  bypass?: boolean;
}

/** A container image jobs run in (`Container.DOCKER`, `PODMAN`, `SINGULARITY`, `APPTAINER`, `SHIFTER`). */
export class Container extends Profiled {
  static readonly DOCKER: ContainerType = 'docker';
  static readonly PODMAN: ContainerType = 'podman';
  static readonly SINGULARITY: ContainerType = 'singularity';
  static readonly APPTAINER: ContainerType = 'apptainer';
  static readonly SHIFTER: ContainerType = 'shifter';
  metadata: Record<string, string | number> | undefined;
  constructor(
    readonly name: string,
    readonly type: ContainerType,
    readonly image: string,
    readonly options: ContainerOptions = {},
  ) {
    super();
  }
  addMetadata(entries: Record<string, string | number>): this {
    this.metadata = { ...this.metadata, ...entries };
    return this;
  }
  toModel(): ContainerModel {
    const o = this.options;
    const c: ContainerModel = {
      name: this.name,
      type: this.type,
      image: this.image,
      mounts: [...(o.mounts ?? [])],
      profiles: copyProfiles(this.profiles),
    };
    if (o.imageSite) c.imageSite = o.imageSite;
    if (o.bypass !== undefined) c.bypass = o.bypass;
    if (o.checksum) c.checksum = { ...o.checksum };
    if (this.metadata) c.metadata = { ...this.metadata };
    return c;
  }
}
