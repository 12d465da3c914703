/** What one ingest pass added. */
export interface IngestStats {
  /** plan.yml read in this pass (first pass only) */
  planJobs: number;
  tasks: number;
  edges: number;
  /** jobstate.log lines applied, and lines that were not jobstate lines (skipped) */
  jobstateLines: number;
  badLines: number;
  /** invocation records stored (invocations/ and clusters/*.dag.invocations.yml) */
  records: number;
  badRecords: number;
  /** bytes of jobstate.log and record files read */
  bytes: number;
  ms: number;
}

export const emptyStats = (): IngestStats => ({
  planJobs: 0,
  tasks: 0,
  edges: 0,
  jobstateLines: 0,
  badLines: 0,
  records: 0,
  badRecords: 0,
  bytes: 0,
  ms: 0,
});

/** a += b, field by field */
export function addStats(a: IngestStats, b: IngestStats): void {
  for (const k of Object.keys(a) as (keyof IngestStats)[]) a[k] += b[k];
}
