/**
 * What a job of an executable workflow does (plan.yml `kind`): the planner writes it, the engine
 * and the monitor read it.
 */
export const EXEC_JOB_KINDS = [
  'compute',
  'cluster',
  'stage-in',
  'stage-out',
  'inter-site',
  'create-dir',
  'cleanup',
  'registration',
  'noop',
  /** a pegasusWorkflow / condorWorkflow job: a whole workflow run with its own submit dir */
  'sub-workflow',
] as const;

export type ExecJobKind = (typeof EXEC_JOB_KINDS)[number];
