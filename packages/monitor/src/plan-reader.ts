import {
  type PlanHeader as ModelPlanHeader,
  type PlanJob as ModelPlanJob,
  readPlanFile,
} from '@pegasus-ts/model';

/** The plan.yml header (the model's, with the counts always set). */
export interface PlanHeader extends ModelPlanHeader {
  jobCount: number;
  edgeCount: number;
}

/** One job of plan.yml (the model's; only the fields in USED_FIELDS are read), with the stampede multiplier factor. */
export interface PlanJob extends ModelPlanJob {
  /** pegasus profile `cores` (the stampede multiplier factor), 1 when absent */
  cores: number;
}

/** The job fields the monitor keeps (the reader skips the others: transfers, targets, ...). */
const USED_FIELDS: ReadonlySet<string> = new Set([
  'transformation',
  'id',
  'tasks',
  'inputs',
  'outputs',
  'profiles',
]);

export interface PlanSink {
  header(h: PlanHeader): void;
  job(j: PlanJob): void;
  edge(parent: string, child: string): void;
}

/**
 * Reads plan.yml with the model's reader and hands its header, jobs and edges to `sink`,
 * streaming (flat memory at a million jobs in the planner's layout; a file in another YAML layout
 * is read whole). Returns 'stream' or 'yaml' (which way it was read). With the yaml fallback,
 * `reset` is called first so the sink can drop what the streaming attempt already gave it.
 * Counts missing from the header (a hand-written plan.yml) are given as 0.
 */
export function readPlan(path: string, sink: PlanSink, reset: () => void): 'stream' | 'yaml' {
  const mode = readPlanFile(path, {
    fields: USED_FIELDS,
    header: (h) => sink.header({ ...h, jobCount: h.jobCount ?? 0, edgeCount: h.edgeCount ?? 0 }),
    job(j) {
      const cores = Number(j.profiles.pegasus?.cores ?? 1);
      const job = j as PlanJob;
      job.cores = Number.isFinite(cores) ? Math.max(1, cores) : 1;
      sink.job(job);
    },
    edge: (parent, child) => sink.edge(parent, child),
    reset,
  });
  return mode === 'lines' ? 'stream' : 'yaml';
}
