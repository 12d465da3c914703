import { addExtensions, checksumDoc, metadataDoc, set, toYamlText, writeText } from './internal/write.js';
import type { Replica, ReplicaCatalog } from './replica-catalog.js';

export function replicaCatalogToObject(
  rc: ReplicaCatalog,
  options: { inline?: boolean } = {},
): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (!options.inline || rc.pegasus !== undefined) o.pegasus = rc.pegasus ?? '5.0';
  o.replicas = rc.replicas.map(replicaDoc);
  return addExtensions(o, rc.extensions);
}

export function replicaCatalogToYaml(rc: ReplicaCatalog): string {
  return toYamlText(replicaCatalogToObject(rc));
}

export async function writeReplicaCatalog(rc: ReplicaCatalog, path: string): Promise<void> {
  await writeText(path, replicaCatalogToYaml(rc));
}

function replicaDoc(r: Replica): Record<string, unknown> {
  const o: Record<string, unknown> = { lfn: r.lfn, pfns: r.pfns.map((p) => ({ site: p.site, pfn: p.pfn })) };
  if (r.regex) o.regex = true;
  set(o, 'checksum', checksumDoc(r.checksum));
  set(o, 'metadata', metadataDoc(r.metadata));
  return addExtensions(o, r.extensions);
}
