export { SpecError, TransferError, UsageError } from './errors.js';
export { type PlanDataJob, specFromPlanJob } from './from-plan.js';
export {
  type LiteInput,
  type LiteOptions,
  type LiteOutput,
  type LiteResult,
  type LiteSpec,
  readLiteSpec,
  runLiteJob,
  stageInEntries,
  stageOutEntries,
  validateLiteSpec,
} from './lite-job.js';
export {
  INTEGRITY_MODES,
  type IntegrityMode,
  integrityFromProperty,
  parseTransferOptions,
  type RawTransferOptions,
  type ResolvedTransferOptions,
  resolveOptions,
  type TransferOptions,
} from './options.js';
export {
  type EntryReport,
  failureLine,
  type MoveAction,
  summaryLine,
  type TransferReport,
  writeReport,
} from './report.js';
export { runTransfers } from './run-transfers.js';
export {
  formatSpec,
  type Linkage,
  type MkdirEntry,
  parseSpec,
  type RemoveEntry,
  type SpecChecksum,
  type SpecEntry,
  type SpecUrl,
  type TransferEntry,
  validateSpec,
} from './spec.js';
export { readSpecFile } from './spec-file.js';
