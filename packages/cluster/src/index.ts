// The public API of @pegasus-ts/cluster: the pegasus-mpi-cluster equivalent.
export { loadOrCreateSecret, SECRET_ENV, secretFromEnv } from './auth.js';
export {
  type ClusterOptionHelp,
  type ClusterOptions,
  clusterOptionHelp,
  type RawClusterOptions,
  resolveClusterOptions,
} from './cluster-options.js';
export {
  type ClusterSummaryRecord,
  type ClusterTaskRecord,
  formatClusterSummary,
  formatClusterTask,
} from './cluster-records.js';
export type {
  Envelope,
  MasterCommunicator,
  TransportEvent,
  WorkerCommunicator,
  WorkerInfo,
} from './communicator.js';
export { Dag, DagBuilder, type Forward, type TaskSpec } from './dag.js';
export {
  type DagShape,
  formatDag,
  type GenerateDagOptions,
  generateDag,
  loadDag,
  parseDag,
} from './dag-file.js';
export { DagError, type DagIssue, UsageError, UserError } from './errors.js';
export { EXIT } from './exit-codes.js';
export { countGpus, detectGpus, detectHost, type HostInfo } from './host-info.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export * from './protocol.js';
export { parseRescue, RescueLog, readRescue } from './rescue-log.js';
export { runCluster } from './run-cluster.js';
export { runWorkerProcess, type WorkerProcessOptions } from './run-worker.js';
export {
  type Completion,
  type Dispatch,
  type Resources,
  Scheduler,
  type SchedulerOptions,
} from './scheduler.js';
export { splitArgs } from './split-args.js';
export { TaskQueue } from './task-queue.js';
export { bindMaster, connectWorker } from './transports/zmq-communicator.js';
export { WorkerQueue } from './worker-queue.js';
