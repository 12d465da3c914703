export type { Attempt, AttemptPaths, AttemptResult, Backend, BackendEvents } from './backend.js';
export { ClusterBackend, WALL_TIME_EXIT } from './backends/cluster-backend.js';
export { InternalBackend } from './backends/internal-backend.js';
export { LocalBackend } from './backends/local-backend.js';
export { isDataJob, writeTransferSpec } from './data-job.js';
export { Engine, type EngineOptions, type Progress, RunExit, type RunResult } from './engine.js';
export { holdEngine } from './engine-hold.js';
export { EngineError, UsageError } from './errors.js';
export { exitFromRecordText } from './internal/record-exit.js';
export { kickstartArgv, type PegasusTsCommand } from './job-command.js';
export { type AttemptOutcome, JOB_STATE_NAMES, JobState } from './job-state.js';
export {
  type AttemptState,
  type JobEvent,
  type JobHistory,
  JobstateLog,
  JobstateReplay,
  readJobstate,
  replayJobstate,
} from './jobstate-log.js';
export { loadPlan, type Plan, type PlanJob, parsePlan } from './plan-file.js';
export { progressLine } from './progress-line.js';
export { readRegistrations, registerReplicas } from './registration.js';
export {
  type DetachedStart,
  type DetachOptions,
  type RemoveResult,
  removeWorkflow,
  runForeground,
  startDetached,
  submitDirOf,
} from './run-workflow.js';
export * from './slurm/index.js';
export {
  runSubWorkflow,
  type SubWorkflowOptions,
  subWorkflowCommand,
  subWorkflowDir,
} from './sub-workflow-job.js';
export { type LockHolder, liveEngine, readLockHolder, SubmitLock } from './submit-lock.js';
export { categoryOf, Throttles } from './throttles.js';
export { type AfterAttempt, WorkflowState } from './workflow-state.js';
