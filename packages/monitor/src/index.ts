export { progressBar } from '@pegasus-ts/io';
export {
  type ParsedInvocation,
  parseInvocationRecord,
  parseInvocationText,
} from '@pegasus-ts/kickstart/record-reader';
export { FINAL_EVENTS, type JobEventLine, parseJobstateLine, type WorkflowEvent } from '@pegasus-ts/model';
export {
  type AnalyzerReport,
  analyze,
  analyzerExitCode,
  analyzeTree,
  type FailedJob,
  type FailedTask,
  formatAnalyzer,
} from './analyzer.js';
export { type ClusterDagTask, readClusterDag } from './cluster-dag-reader.js';
export { DB_FILE, type Db, dbPath, openDatabase, SCHEMA_VERSION } from './database.js';
export { MonitorError } from './errors.js';
export { formatDuration, formatTable, formatTime } from './format.js';
export { GANTT_MAX_ROWS, renderGantt } from './gantt.js';
export {
  Ingester,
  type IngesterOptions,
  type IngestStats,
  ingest,
  rawStatus,
  type Watcher,
} from './ingester.js';
export { type JobCategory, jobCategory } from './job-category.js';
export { openMonitor } from './open-monitor.js';
export { type PlanHeader, type PlanJob, type PlanSink, readPlan } from './plan-reader.js';
export {
  findJob,
  type GanttBar,
  type GanttPage,
  ganttBars,
  type HostRow,
  type InvocationRow,
  JOB_FILTERS,
  type JobFilter,
  type JobInstanceDetail,
  type JobInstanceRow,
  type JobRow,
  jobDistribution,
  jobInstanceDetail,
  jobsOverTime,
  listHosts,
  listInvocations,
  listJobInstances,
  listJobs,
  listTasks,
  listWorkflows,
  MAX_PAGE_ROWS,
  type Page,
  type PageRequest,
  type StateChange,
  type TaskRow,
  type TimeBucket,
  type TransformationShare,
  type WorkflowHeader,
} from './provenance-queries.js';
export {
  type CountRow,
  formatSummary,
  querySummary,
  querySummaryTree,
  type StatisticsOptions,
  type StatisticsResult,
  type Summary,
  type WorkflowCounts,
  writeBreakdown,
  writeJobs,
  writeStatistics,
  writeTime,
  writeWorkflows,
} from './statistics.js';
export {
  formatStatus,
  queryStatus,
  queryStatusTree,
  type StatusCounts,
  type StatusJob,
  type StatusReport,
  type SubWorkflowStatus,
  statusJson,
} from './status.js';
export { mapSubWorkflows, type SubWorkflowDir, subWorkflowDirs } from './sub-workflows.js';
export {
  runStateText,
  type WorkflowInfo,
  type WorkflowRun,
  workflowInfo,
  workflowRun,
} from './workflow-state.js';
