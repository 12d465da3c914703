import type { Pfn } from '@pegasus-ts/model';

/**
 * Replica selection (the Default selector, as the brief asks): the replicas at `preferredSite`
 * (the compute/staging site) first, then the rest in catalog order. A `file://` replica on
 * another site is kept last (the transfer tool tries sources in order).
 */
export function selectReplicas(pfns: readonly Pfn[], preferredSite: string): Pfn[] {
  const here: Pfn[] = [];
  const other: Pfn[] = [];
  const remoteFiles: Pfn[] = [];
  for (const p of pfns) {
    if (p.site === preferredSite) here.push(p);
    else if (p.pfn.startsWith('file:') && p.site !== 'local') remoteFiles.push(p);
    else other.push(p);
  }
  return [...here, ...other, ...remoteFiles];
}
