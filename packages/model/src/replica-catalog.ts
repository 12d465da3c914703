import type { Checksum, Extensions, Metadata } from './common.js';

export interface Pfn {
  site: string;
  pfn: string;
}

export interface Replica {
  /** the LFN, or a regular expression matched against the whole LFN when `regex` */
  lfn: string;
  pfns: Pfn[];
  /** default false (filled in at load time) */
  regex: boolean;
  checksum?: Checksum;
  metadata?: Metadata;
  extensions?: Extensions;
}

export interface ReplicaCatalog {
  pegasus?: string;
  replicas: Replica[];
  extensions?: Extensions;
}

/** A replica found for one LFN; for a regex entry, `pfns` have `[n]` replaced by the match groups. */
export interface ReplicaMatch {
  replica: Replica;
  pfns: Pfn[];
}

/**
 * Fast LFN lookup over one or more replica catalogs, searched in order: an exact entry in any
 * catalog wins; otherwise the first regex entry (file order) that matches the whole LFN.
 */
export class ReplicaIndex {
  private readonly exact = new Map<string, Replica[]>();
  private readonly regexes: { re: RegExp; replica: Replica }[] = [];

  constructor(catalogs: readonly (ReplicaCatalog | undefined)[]) {
    for (const rc of catalogs) {
      if (!rc) continue;
      for (const r of rc.replicas) {
        if (r.regex) {
          const re = compileReplicaRegex(r.lfn);
          if (re) this.regexes.push({ re, replica: r });
        } else {
          const list = this.exact.get(r.lfn);
          if (list) list.push(r);
          else this.exact.set(r.lfn, [r]);
        }
      }
    }
  }

  /** All PFNs known for `lfn` (exact entries merged), or undefined. */
  lookup(lfn: string): ReplicaMatch[] | undefined {
    const ex = this.exact.get(lfn);
    if (ex) return ex.map((replica) => ({ replica, pfns: replica.pfns }));
    for (const { re, replica } of this.regexes) {
      const m = re.exec(lfn);
      if (!m) continue;
      const pfns = replica.pfns.map((p) => ({
        site: p.site,
        pfn: p.pfn.replace(/\[(\d+)\]/g, (all, n: string) => m[Number(n)] ?? all),
      }));
      return [{ replica, pfns }];
    }
    return undefined;
  }

  has(lfn: string): boolean {
    return this.lookup(lfn) !== undefined;
  }
}

/** Compiles a (Java-style) regex LFN anchored on both ends; undefined when it is not a valid pattern. */
export function compileReplicaRegex(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}
