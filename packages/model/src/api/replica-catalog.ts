import type { Checksum, Metadata } from '../common.js';
import type { Replica, ReplicaCatalog as ReplicaCatalogModel } from '../replica-catalog.js';
import { replicaCatalogToYaml, writeReplicaCatalog } from '../write-replica-catalog.js';
import { File } from './file.js';

export class ReplicaCatalog {
  readonly replicas: Replica[] = [];
  private readonly byLfn = new Map<string, Replica>();

  /** Adds a location of `lfn` on `site` (several calls for one LFN add PFNs to one entry). */
  addReplica(
    site: string,
    lfn: File | string,
    pfn: string,
    options: { checksum?: Checksum; metadata?: Metadata } = {},
  ): this {
    const name = lfn instanceof File ? lfn.lfn : lfn;
    let r = this.byLfn.get(name);
    if (!r) {
      r = { lfn: name, pfns: [], regex: false };
      this.byLfn.set(name, r);
      this.replicas.push(r);
    }
    r.pfns.push({ site, pfn });
    if (options.checksum) r.checksum = { ...options.checksum };
    const md = { ...(lfn instanceof File ? lfn.metadata : undefined), ...options.metadata };
    if (Object.keys(md).length > 0) r.metadata = { ...r.metadata, ...md };
    return this;
  }

  /** A regex entry: `pattern` matches whole LFNs; `[n]` in the PFN is replaced by group n. */
  addRegexReplica(site: string, pattern: string, pfn: string): this {
    this.replicas.push({ lfn: pattern, pfns: [{ site, pfn }], regex: true });
    return this;
  }

  toModel(): ReplicaCatalogModel {
    return {
      pegasus: '5.0',
      replicas: this.replicas.map((r) => ({
        ...r,
        pfns: r.pfns.map((p) => ({ ...p })),
        ...(r.metadata ? { metadata: { ...r.metadata } } : {}),
      })),
    };
  }
  toYaml(): string {
    return replicaCatalogToYaml(this.toModel());
  }
  async write(path = 'replicas.yml'): Promise<void> {
    await writeReplicaCatalog(this.toModel(), path);
  }
}
