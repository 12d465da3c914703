/**
 * The names of what a submit dir holds (see the planner's and the engine's READMEs), defined once
 * for the planner that creates them, the engine that runs from them and the monitor that reads them.
 */
export const SUBMIT_FILES = {
  /** the executable workflow (plan-file.ts) */
  plan: 'plan.yml',
  braindump: 'braindump.yml',
  properties: 'pegasus.properties',
  /** the journal (jobstate-line.ts) */
  jobstate: 'jobstate.log',
  /** the engine's lock: `PID HOST START` of the engine driving the dir */
  engineLock: 'engine.pid',
  /** a detached engine's log */
  engineLog: 'engine.log',
  /** the monitor's provenance database */
  database: 'workflow.db',
  /** where registration jobs register the outputs (rc-5.0 YAML) */
  outputReplicas: 'output-replicas.yml',
  catalogs: 'catalogs',
  /** clustered jobs' .dag files and batch scripts */
  clusters: 'clusters',
  /** the jobs' invocation records */
  invocations: 'invocations',
  /** the submit dirs of the sub-workflows planned at run time (one per sub-workflow job) */
  subWorkflows: 'sub-workflows',
  /** lite specs of the jobs run without a shared filesystem (nonsharedfs, condorio) */
  lite: 'lite',
} as const;

/** The submit dir of sub-workflow job `job` planned at run time, relative to its parent's submit dir. */
export function subWorkflowDirPath(job: string): string {
  return `${SUBMIT_FILES.subWorkflows}/${job}`;
}

/** A clustered job's .dag file, relative to the submit dir. */
export function clusterDagPath(job: string): string {
  return `${SUBMIT_FILES.clusters}/${job}.dag`;
}

/** A clustered job's batch script (Slurm sites), relative to the submit dir. */
export function clusterSbatchPath(job: string): string {
  return `${SUBMIT_FILES.clusters}/${job}.sbatch`;
}

/** The lite spec of a job (or a clustered task) run in a scratch dir, relative to the submit dir. */
export function liteSpecPath(job: string): string {
  return `${SUBMIT_FILES.lite}/${job}.json`;
}
