import type { PlanSiteUrl, PlanTransfer } from '@pegasus-ts/model';
import { SpecError } from './errors.js';
import type { SpecEntry, SpecUrl } from './spec.js';

/** The fields of a plan.yml data job (model's PlanJob) that say what to move. */
export interface PlanDataJob {
  name?: string;
  /** `stage-in`, `stage-out`, `inter-site`, `create-dir`, `cleanup` */
  kind: string;
  transfers?: readonly PlanTransfer[];
  targets?: readonly PlanSiteUrl[];
  recursive?: boolean;
}

function specUrl(u: PlanSiteUrl, withChecksum: boolean): SpecUrl {
  const s: SpecUrl = { site_label: u.site, url: u.url };
  if (withChecksum && u.checksum?.sha256 !== undefined) s.checksum = { sha256: u.checksum.sha256 };
  return s;
}

/**
 * The spec entries of one plan.yml data job (pure): `transfers` become `transfer` entries
 * (sources in order, checksums kept), the `targets` of a create-dir job `mkdir` entries and
 * those of a cleanup job `remove` entries with the job's `recursive`. A job with neither gives [].
 */
export function specFromPlanJob(job: PlanDataJob): SpecEntry[] {
  const out: SpecEntry[] = [];
  if (job.transfers) {
    for (const t of job.transfers) {
      out.push({
        type: 'transfer',
        lfn: t.lfn,
        linkage: t.linkage,
        src_urls: t.sources.map((s) => specUrl(s, true)),
        dest_urls: [specUrl(t.dest, false)],
      });
    }
  }
  if (job.targets && job.targets.length > 0) {
    if (job.kind === 'create-dir') {
      for (const t of job.targets) out.push({ type: 'mkdir', target: specUrl(t, false) });
    } else if (job.kind === 'cleanup') {
      const recursive = job.recursive ?? false;
      for (const t of job.targets) out.push({ type: 'remove', target: specUrl(t, false), recursive });
    } else {
      throw new SpecError(
        `plan job ${JSON.stringify(job.name ?? '?')}: targets on a ${job.kind} job (expected a create-dir or cleanup job)`,
      );
    }
  }
  return out;
}
