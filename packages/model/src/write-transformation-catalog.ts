import {
  addExtensions,
  checksumDoc,
  hooksDoc,
  metadataDoc,
  profilesDoc,
  set,
  toYamlText,
  writeText,
} from './internal/write.js';
import type {
  Container,
  Transformation,
  TransformationCatalog,
  TransformationSite,
} from './transformation-catalog.js';

export function transformationCatalogToObject(
  tc: TransformationCatalog,
  options: { inline?: boolean } = {},
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (!options.inline || tc.pegasus !== undefined) o.pegasus = tc.pegasus ?? '5.0';
  o.transformations = tc.transformations.map(transformationDoc);
  if (tc.containers.length > 0) o.containers = tc.containers.map(containerDoc);
  return addExtensions(o, tc.extensions);
}

export function transformationCatalogToYaml(tc: TransformationCatalog): string {
  return toYamlText(transformationCatalogToObject(tc));
}

export async function writeTransformationCatalog(tc: TransformationCatalog, path: string): Promise<void> {
  await writeText(path, transformationCatalogToYaml(tc));
}

function transformationDoc(t: Transformation): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  set(o, 'namespace', t.namespace);
  o.name = t.name;
  set(o, 'version', t.version);
  if (t.requires.length > 0) o.requires = [...t.requires];
  set(o, 'checksum', checksumDoc(t.checksum));
  set(o, 'profiles', profilesDoc(t.profiles));
  set(o, 'hooks', hooksDoc(t.hooks));
  set(o, 'metadata', metadataDoc(t.metadata));
  o.sites = t.sites.map(trSiteDoc);
  return addExtensions(o, t.extensions);
}

function trSiteDoc(s: TransformationSite): Record<string, unknown> {
  const o: Record<string, unknown> = { name: s.name, pfn: s.pfn, type: s.type };
  set(o, 'arch', s.arch);
  set(o, 'os.type', s.osType);
  set(o, 'os.release', s.osRelease);
  set(o, 'os.version', s.osVersion);
  set(o, 'container', s.container);
  set(o, 'bypass', s.bypass);
  set(o, 'profiles', profilesDoc(s.profiles));
  set(o, 'metadata', metadataDoc(s.metadata));
  return addExtensions(o, s.extensions);
}

function containerDoc(c: Container): Record<string, unknown> {
  const o: Record<string, unknown> = { name: c.name, type: c.type, image: c.image };
  set(o, 'image.site', c.imageSite);
  if (c.mounts.length > 0) o.mounts = [...c.mounts];
  set(o, 'bypass', c.bypass);
  set(o, 'checksum', checksumDoc(c.checksum));
  set(o, 'profiles', profilesDoc(c.profiles));
  set(o, 'metadata', metadataDoc(c.metadata));
  return addExtensions(o, c.extensions);
}
