import { writeFileSync } from 'node:fs';
import { formatSpec, type PlanDataJob, specFromPlanJob } from '@pegasus-ts/transfer';
import type { PlanJob } from './plan-file.js';

/**
 * Writes the `pegasus-ts transfer` spec of a data job (transfers for stage-in, stage-out and
 * inter-site jobs, mkdir for create-dir, remove for cleanup; see packages/transfer/README.md) to
 * `path`: the same content every attempt.
 */
export function writeTransferSpec(job: PlanJob, path: string): void {
  writeFileSync(path, formatSpec(specFromPlanJob(job as PlanDataJob)));
}

/** Whether a job is a data job run through `pegasus-ts transfer`. */
export function isDataJob(job: PlanJob): boolean {
  return (
    job.kind === 'stage-in' ||
    job.kind === 'stage-out' ||
    job.kind === 'inter-site' ||
    job.kind === 'create-dir' ||
    job.kind === 'cleanup'
  );
}
