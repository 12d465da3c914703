export {
  type EnsembleJson,
  ensembleJson,
  type TriggerJson,
  triggerJson,
  type WorkflowDetailJson,
  type WorkflowJson,
  workflowJson,
} from './api-json.js';
export { type ClientCredential, EmClient } from './client.js';
export { EnsembleError } from './errors.js';
export { type FilePattern, globRegex, newMatches, parseFilePattern } from './file-pattern.js';
export { formatEnsembles, formatTriggers, formatWorkflowStatus, formatWorkflows } from './format.js';
export { emHome, homePaths } from './home.js';
export { formatInterval, parseInterval } from './interval.js';
export { Manager, type ManagerOptions, type Submission, type TriggerSpec } from './manager.js';
export { checkName, parseCount, parseWorkflowRef } from './names.js';
export {
  abandonPlanAttempt,
  killPlanAttempt,
  type PlanAttemptState,
  planAttemptState,
  startPlanAttempt,
  submitDirFromOutput,
} from './plan-attempt.js';
export { byPriority, type Candidate, type Limits, nextMoves } from './policy.js';
export { buildApi, defaultPort, runServer, type ServerOptions } from './server.js';
export { lockHome, readServerInfo, type ServerInfo, writeServerInfo } from './server-info.js';
export {
  applyAction,
  ENSEMBLE_STATES,
  type EnsembleState,
  TRIGGER_STATES,
  type TriggerState,
  WORKFLOW_STATES,
  type WorkflowAction,
  type WorkflowState,
} from './states.js';
export { type Ensemble, Store, type Trigger, type TriggerType, type Workflow } from './store.js';
export { nextFireTime } from './triggers.js';
