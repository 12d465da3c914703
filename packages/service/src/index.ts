export { API_PREFIX, type ApiOptions, registerApi } from './api.js';
export { ServiceError } from './errors.js';
export { type BrowseResult, browse, FILE_VIEW_BYTES, type FileEntry } from './file-browser.js';
export { progressMark, sseMessage } from './live-updates.js';
export {
  ganttGroups,
  idParam,
  jobFilter,
  pageRequest,
  type Query,
  sinceTime,
  TIME_FILTERS,
} from './request-params.js';
export * from './security/index.js';
export {
  buildService,
  DEFAULT_PORT,
  errorReply,
  type RunningService,
  type ServiceOptions,
  startService,
} from './server.js';
export {
  findRegisteredWorkflow,
  listRegisteredWorkflows,
  MASTER_DB_FILE,
  masterDbPath,
  pegasusTsHome,
  type RegisteredWorkflow,
  registerWorkflow,
} from './workflow-registry.js';
export {
  type OpenWorkflow,
  type WorkflowListRow,
  WorkflowStore,
  type WorkflowSummary,
} from './workflow-store.js';
