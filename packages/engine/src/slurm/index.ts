export { findOnPath, SLURM_CLIENTS, type SlurmAvailability, slurmAvailable } from './slurm-available.js';
export { SlurmClient, type SlurmClientOptions, type SubmitOptions } from './slurm-client.js';
export { SlurmError, type SlurmErrorKind } from './slurm-error.js';
export {
  decodeWaitStatus,
  isTerminalState,
  mapSlurmState,
  parseExitCodePair,
  parseSbatchParsable,
  parseScontrolJobLine,
  parseScontrolJobs,
  parseSlurmTime,
  parseSqueue,
  parseSqueueFormat,
  type SlurmJobInfo,
  type SlurmState,
  SQUEUE_FORMAT,
  scontrolFields,
} from './slurm-parse.js';
