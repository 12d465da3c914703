import { type Issue, throwIfIssues } from './errors.js';
import { expandEnv } from './internal/expand-env.js';
import {
  asArr,
  asBool,
  asObj,
  asStr,
  put,
  readChecksum,
  readExtensions,
  readHooks,
  readMetadata,
  readProfiles,
  readYaml,
  readYamlFile,
  type YamlRead,
} from './internal/read.js';
import { check, type SchemaProblem } from './internal/schema.js';
import { type Path, type Source, setOrigin } from './internal/source.js';
import { transformationCatalogSpec } from './internal/specs.js';
import type { CatalogLoadOptions } from './load-site-catalog.js';
import type { Arch, OsType } from './site-catalog.js';
import type {
  Container,
  ContainerType,
  Transformation,
  TransformationCatalog,
  TransformationSite,
  TransformationType,
} from './transformation-catalog.js';

/** Parses a standalone transformation catalog (`transformations.yml`). Throws ModelError. */
export function parseTransformationCatalog(
  text: string,
  file = 'transformations.yml',
  options: CatalogLoadOptions = {},
): TransformationCatalog {
  const { catalog, issues } = parseTransformationCatalogIssues(text, file, options);
  throwIfIssues(issues);
  return catalog;
}

export function parseTransformationCatalogIssues(
  text: string,
  file = 'transformations.yml',
  options: CatalogLoadOptions = {},
): { catalog: TransformationCatalog; issues: Issue[] } {
  return transformationCatalogFromRead(readYaml(text, file), options);
}

/** @internal reads a transformation catalog file (streamed) and returns the problems instead of throwing. */
export async function readTransformationCatalogIssues(
  path: string,
  options: CatalogLoadOptions = {},
): Promise<{ catalog: TransformationCatalog; issues: Issue[] }> {
  return transformationCatalogFromRead(await readYamlFile(path), options);
}

function transformationCatalogFromRead(
  read: YamlRead,
  options: CatalogLoadOptions,
): { catalog: TransformationCatalog; issues: Issue[] } {
  const { value, source, issues } = read;
  if (issues.length > 0) return { catalog: { transformations: [], containers: [] }, issues };
  const problems: SchemaProblem[] = [];
  const v = options.env === false ? value : expandEnv(value, options.env ?? process.env, [], problems);
  check(transformationCatalogSpec, v, [], problems, 'transformation catalog');
  const catalog = transformationCatalogFromObject(v, source, []);
  problems.push(...transformationCatalogProblems(catalog, []));
  return { catalog, issues: problems.map((p) => source.issue(p.path, p.message, p.onKey)) };
}

export async function loadTransformationCatalog(
  path: string,
  options: CatalogLoadOptions = {},
): Promise<TransformationCatalog> {
  const { catalog, issues } = await readTransformationCatalogIssues(path, options);
  throwIfIssues(issues);
  return catalog;
}

/** @internal cross-reference checks: container names used by sites exist. */
export function transformationCatalogProblems(tc: TransformationCatalog, path: Path): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const names = new Set(tc.containers.map((c) => c.name));
  tc.transformations.forEach((t, i) => {
    t.sites.forEach((s, k) => {
      if (s.container !== undefined && !names.has(s.container)) {
        out.push({
          path: [...path, 'transformations', i, 'sites', k, 'container'],
          message: `unknown container "${s.container}" (expected one of the catalog's containers: ${[...names].join(', ') || 'none'})`,
        });
      }
    });
  });
  return out;
}

/** @internal */
export function transformationCatalogFromObject(
  v: unknown,
  source: Source,
  path: Path,
): TransformationCatalog {
  const o = asObj(v);
  const tc: TransformationCatalog = {
    transformations: asArr(o.transformations).map((t, i) =>
      readTransformation(t, source, [...path, 'transformations', i]),
    ),
    containers: asArr(o.containers).map((c, i) => readContainer(c, source, [...path, 'containers', i])),
  };
  put(tc, 'pegasus', asStr(o.pegasus));
  put(tc, 'extensions', readExtensions(o));
  setOrigin(tc, source, path);
  return tc;
}

function readTransformation(v: unknown, source: Source, path: Path): Transformation {
  const o = asObj(v);
  const t: Transformation = {
    name: asStr(o.name) ?? '',
    sites: asArr(o.sites).map((s, i) => readTrSite(s, source, [...path, 'sites', i])),
    requires: asArr(o.requires).filter((r): r is string => typeof r === 'string'),
    profiles: readProfiles(o.profiles),
  };
  put(t, 'namespace', asStr(o.namespace));
  put(t, 'version', asStr(o.version));
  put(t, 'hooks', readHooks(o.hooks));
  put(t, 'metadata', readMetadata(o.metadata));
  put(t, 'checksum', readChecksum(o.checksum));
  put(t, 'extensions', readExtensions(o));
  setOrigin(t, source, path);
  return t;
}

function readTrSite(v: unknown, source: Source, path: Path): TransformationSite {
  const o = asObj(v);
  const s: TransformationSite = {
    name: asStr(o.name) ?? '',
    pfn: asStr(o.pfn) ?? '',
    type: (asStr(o.type) ?? 'installed') as TransformationType,
    profiles: readProfiles(o.profiles),
  };
  put(s, 'arch', asStr(o.arch) as Arch | undefined);
  put(s, 'osType', asStr(o['os.type']) as OsType | undefined);
  put(s, 'osRelease', asStr(o['os.release']));
  put(s, 'osVersion', asStr(o['os.version']));
  put(s, 'container', asStr(o.container));
  put(s, 'bypass', asBool(o.bypass));
  put(s, 'metadata', readMetadata(o.metadata));
  put(s, 'extensions', readExtensions(o));
  setOrigin(s, source, path);
  return s;
}

function readContainer(v: unknown, source: Source, path: Path): Container {
  const o = asObj(v);
  const c: Container = {
    name: asStr(o.name) ?? '',
    type: (asStr(o.type) ?? 'docker') as ContainerType,
    image: asStr(o.image) ?? '',
    mounts: asArr(o.mounts).filter((m): m is string => typeof m === 'string'),
    profiles: readProfiles(o.profiles),
  };
  put(c, 'imageSite', asStr(o['image.site']));
  put(c, 'bypass', asBool(o.bypass));
  put(c, 'checksum', readChecksum(o.checksum));
  put(c, 'metadata', readMetadata(o.metadata));
  put(c, 'extensions', readExtensions(o));
  setOrigin(c, source, path);
  return c;
}
