export { kickstartExitCode, RECORD_WRITE_FAILED } from './exit-code.js';
export { isoTime } from './internal/iso-time.js';
export {
  buildInvocationRecord,
  type InvocationRecord,
  type JobRecord,
  type RecordInput,
  type RecordStatus,
  recordStatus,
  resourceLimits,
  selfUsage,
} from './invocation-record.js';
export {
  DEFAULT_TAIL_BYTES,
  defaultLauncher,
  type KickstartOptions,
  type KickstartOutcome,
  runKickstart,
} from './kickstart.js';
export {
  type Captured,
  createLauncher,
  LaunchCancelledError,
  type Launcher,
  type LauncherOptions,
  type LaunchFailureStage,
  type LaunchHandle,
  type LaunchOptions,
  type LaunchResult,
  type LaunchSpec,
  type LaunchStatus,
  NativeLauncherUnavailableError,
  type Rusage,
  type StdioTarget,
} from './launcher.js';
export { formatRecordYaml, quote as yamlQuote } from './record-yaml.js';
export {
  closeHashPool,
  hashFile,
  parseStatArgs,
  type StatEntry,
  type StatInfo,
  statEntries,
  statFile,
} from './stat-files.js';
