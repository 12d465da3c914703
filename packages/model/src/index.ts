// @pegasus-ts/model: the Pegasus 5.0 vocabulary (abstract workflow, catalogs, properties),
// YAML read/write, validation, and (under `api`) the builder API.
export * as api from './api/index.js';
export {
  type Checksum,
  type Extensions,
  HOOK_EVENTS,
  type HookEvent,
  type Hooks,
  type Metadata,
  type ShellHook,
} from './common.js';
export { compareIssues, formatIssue, type Issue, ModelError, throwIfIssues } from './errors.js';
export { EXEC_JOB_KINDS, type ExecJobKind } from './exec-job-kind.js';
export {
  FINAL_EVENTS,
  JOBSTATE_LOG,
  type JobEvent,
  type JobEventLine,
  jobstateJobLine,
  jobstateWorkflowLine,
  parseJobstateLine,
  type WorkflowEvent,
} from './jobstate-line.js';
export {
  type InputPaths,
  type LoadedInputs,
  type LoadInputsOptions,
  loadInputs,
} from './load-inputs.js';
export {
  loadReplicaCatalog,
  parseReplicaCatalog,
  parseReplicaCatalogIssues,
} from './load-replica-catalog.js';
export {
  type CatalogLoadOptions,
  loadSiteCatalog,
  parseSiteCatalog,
  parseSiteCatalogIssues,
} from './load-site-catalog.js';
export {
  loadTransformationCatalog,
  parseTransformationCatalog,
  parseTransformationCatalogIssues,
} from './load-transformation-catalog.js';
export {
  loadWorkflow,
  parseWorkflow,
  parseWorkflowIssues,
  type WorkflowLoadOptions,
} from './load-workflow.js';
export { locationOf } from './location.js';
export {
  inPlannerLayout,
  PLAN_FILE,
  PLAN_FORMAT,
  PlanFileError,
  type PlanHeader,
  type PlanJob,
  type PlanReadMode,
  type PlanRegistration,
  type PlanSink,
  type PlanSiteUrl,
  type PlanTransfer,
  parsePlanText,
  planJobText,
  readPlanFile,
  writePlan,
} from './plan-file.js';
export { processStartTime, startedBefore } from './process-start.js';
export {
  canonicalProfile,
  getProfile,
  isProfileNamespace,
  mergeProfiles,
  PROFILE_NAMESPACES,
  type ProfileNamespace,
  type Profiles,
  type ProfileValue,
  profileCount,
  setProfile,
} from './profiles.js';
export { Properties, parseDefines, propertiesFromEnv } from './properties.js';
export {
  compileReplicaRegex,
  type Pfn,
  type Replica,
  type ReplicaCatalog,
  ReplicaIndex,
  type ReplicaMatch,
} from './replica-catalog.js';
export { shellQuote } from './shell-quote.js';
export {
  type Arch,
  type Directory,
  type DirectoryType,
  type FileServer,
  type FileServerOperation,
  findDirectory,
  findSite,
  type Grid,
  type GridJobType,
  type GridType,
  type OsType,
  type SchedulerType,
  type Site,
  type SiteCatalog,
  siteTags,
} from './site-catalog.js';
export {
  clusterDagPath,
  clusterSbatchPath,
  liteSpecPath,
  SUBMIT_FILES,
  subWorkflowDirPath,
} from './submit-dir.js';
export {
  type Container,
  type ContainerType,
  findContainer,
  findTransformations,
  formatTransformationRef,
  matchesTransformation,
  parseTransformationRef,
  type Transformation,
  type TransformationCatalog,
  type TransformationRef,
  type TransformationSite,
  type TransformationType,
} from './transformation-catalog.js';
export {
  type ValidateWorkflowOptions,
  validateWorkflow,
  type WorkflowCatalogs,
  workflowIssues,
} from './validate-workflow.js';
export {
  type AbstractWorkflow,
  argumentString,
  type ComputeJob,
  type Dependency,
  type FileUse,
  fileArguments,
  fileUse,
  isInputUse,
  isOutputUse,
  type Job,
  type JobKind,
  jobTransformation,
  type LinkType,
  type SubWorkflowJob,
} from './workflow.js';
export { type EdgeKind, WorkflowGraph } from './workflow-graph.js';
export {
  replicaCatalogToObject,
  replicaCatalogToYaml,
  writeReplicaCatalog,
} from './write-replica-catalog.js';
export { siteCatalogToObject, siteCatalogToYaml, writeSiteCatalog } from './write-site-catalog.js';
export {
  transformationCatalogToObject,
  transformationCatalogToYaml,
  writeTransformationCatalog,
} from './write-transformation-catalog.js';
export { workflowToObject, workflowToYaml, writeWorkflow } from './write-workflow.js';
