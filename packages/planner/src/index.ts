// @pegasus-ts/planner: pegasus-plan as a pipeline of small passes, and the emitters of the submit dir.
export { type Braindump, emitBraindump } from './emit/braindump.js';
export { clusterDagText, emitClusterDag, taskOptions } from './emit/cluster-dag.js';
export { emitPlanYml } from './emit/plan-yml.js';
export { jobPriorities } from './emit/priorities.js';
export {
  emitSbatch,
  isSlurmSite,
  type MpiLauncher,
  mpiLauncher,
  runnerWallTime,
  type SbatchOptions,
  slurmTime,
} from './emit/sbatch.js';
export { PlanError, UsageError } from './errors.js';
export {
  addEdge,
  addJob,
  auxJob,
  type ExecJob,
  type ExecJobKind,
  type ExecutableWorkflow,
  emptyWorkflow,
  type FileRef,
  type Registration,
  type SiteUrl,
  type Transfer,
} from './executable-workflow.js';
export { addCleanup, type CleanupMode, type CleanupOptions, parseCleanupMode } from './passes/add-cleanup.js';
export { addCreateDirs, addDataMovement, type DataMovementOptions } from './passes/add-data-movement.js';
export { clusterHorizontal } from './passes/cluster-horizontal.js';
export { clusterLabel } from './passes/cluster-label.js';
export { clusterNamePart, contractClusters } from './passes/contract-clusters.js';
export { describeJob, type MapJobsResult, mapJobs } from './passes/map-jobs.js';
export { type DataReuseResult, reduceDataReuse } from './passes/reduce-data-reuse.js';
export { selectReplicas } from './passes/select-replicas.js';
export {
  type SiteSelectionInput,
  type SiteSelector,
  seededRandom,
  selectSites,
} from './passes/select-sites.js';
export {
  type ClusterStyle,
  type PipelineInput,
  type PlanOptions,
  type PlanResult,
  pegasusTimestamp,
  plan,
  runPipeline,
  type WriteOptions,
  withLocalSite,
  writeSubmitDir,
} from './plan.js';
export {
  auxillaryLocal,
  type DataConfiguration,
  outputUrlOf,
  type PlanContext,
  stagingSiteFor,
  storageUrlOf,
  workDirOf,
} from './planning-context.js';
export { createSubmitDir, nextRunName, timestampRunName } from './submit-dir.js';
