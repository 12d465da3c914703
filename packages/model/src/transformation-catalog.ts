import type { Checksum, Extensions, Hooks, Metadata } from './common.js';
import type { Profiles } from './profiles.js';
import type { Arch, OsType } from './site-catalog.js';

export type TransformationType = 'installed' | 'stageable';
export type ContainerType = 'docker' | 'podman' | 'singularity' | 'apptainer' | 'shifter';

/** Where a transformation exists: an installed path on `name`, or a stageable URL. */
export interface TransformationSite {
  /** site handle */
  name: string;
  pfn: string;
  type: TransformationType;
  arch?: Arch;
  osType?: OsType;
  osRelease?: string;
  osVersion?: string;
  /** name of a container in the catalog */
  container?: string;
  bypass?: boolean;
  profiles: Profiles;
  metadata?: Metadata;
  extensions?: Extensions;
}

export interface Transformation {
  namespace?: string;
  name: string;
  version?: string;
  sites: TransformationSite[];
  /** `[ns::]name[:ver]` of dependent executables */
  requires: string[];
  profiles: Profiles;
  hooks?: Hooks;
  metadata?: Metadata;
  checksum?: Checksum;
  extensions?: Extensions;
}

export interface Container {
  name: string;
  type: ContainerType;
  image: string;
  /** YAML key `image.site` */
  imageSite?: string;
  mounts: string[];
  bypass?: boolean;
  checksum?: Checksum;
  profiles: Profiles;
  metadata?: Metadata;
  extensions?: Extensions;
}

export interface TransformationCatalog {
  pegasus?: string;
  transformations: Transformation[];
  containers: Container[];
  extensions?: Extensions;
}

/** A transformation reference; parts left out match anything. */
export interface TransformationRef {
  namespace?: string;
  name: string;
  version?: string;
}

/** Parses `ns::name:ver` (`ns::` and `:ver` optional). */
export function parseTransformationRef(ref: string): TransformationRef {
  let rest = ref;
  let namespace: string | undefined;
  let version: string | undefined;
  const ns = rest.indexOf('::');
  if (ns >= 0) {
    namespace = rest.slice(0, ns);
    rest = rest.slice(ns + 2);
  }
  const v = rest.lastIndexOf(':');
  if (v >= 0) {
    version = rest.slice(v + 1);
    rest = rest.slice(0, v);
  }
  const out: TransformationRef = { name: rest };
  if (namespace) out.namespace = namespace;
  if (version) out.version = version;
  return out;
}

/** Formats `ns::name:ver`, leaving out absent parts. */
export function formatTransformationRef(ref: TransformationRef): string {
  return `${ref.namespace ? `${ref.namespace}::` : ''}${ref.name}${ref.version ? `:${ref.version}` : ''}`;
}

/** Whether a catalog entry answers a reference (parts absent from the reference match anything). */
export function matchesTransformation(t: TransformationRef, ref: TransformationRef): boolean {
  return (
    t.name === ref.name &&
    (ref.namespace === undefined || t.namespace === ref.namespace) &&
    (ref.version === undefined || t.version === ref.version)
  );
}

/** Every entry of the catalogs (searched in order) that answers `ref`. */
export function findTransformations(
  catalogs: readonly (TransformationCatalog | undefined)[],
  ref: TransformationRef,
): Transformation[] {
  const out: Transformation[] = [];
  for (const tc of catalogs) {
    if (!tc) continue;
    for (const t of tc.transformations) if (matchesTransformation(t, ref)) out.push(t);
  }
  return out;
}

export function findContainer(tc: TransformationCatalog | undefined, name: string): Container | undefined {
  return tc?.containers.find((c) => c.name === name);
}
