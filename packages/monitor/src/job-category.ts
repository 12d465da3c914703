/** pegasus-status's columns. */
export type JobCategory = 'UNREADY' | 'READY' | 'PRE' | 'IN_Q' | 'POST' | 'DONE' | 'FAIL';

/**
 * The status column of a job from its last jobstate event. `canRetry`: the last attempt's seq is
 * at most the job's retries (another attempt may follow); `running`: the workflow runs. A job
 * with no event is UNREADY or READY (decided from its parents by the caller: null here).
 */
export function jobCategory(state: string | null, canRetry: boolean, running: boolean): JobCategory | null {
  switch (state) {
    case null:
      return null;
    case 'POST_SCRIPT_SUCCESS':
      return 'DONE';
    case 'POST_SCRIPT_FAILURE':
    case 'JOB_ABORTED':
    case 'SUBMIT_FAILED':
      return running && canRetry ? 'READY' : 'FAIL';
    case 'JOB_EVICTED':
      return running ? 'READY' : 'FAIL';
    case 'JOB_TERMINATED':
    case 'JOB_SUCCESS':
    case 'JOB_FAILURE':
    case 'POST_SCRIPT_STARTED':
    case 'POST_SCRIPT_TERMINATED':
      return 'POST';
    case 'PRE_SCRIPT_STARTED':
    case 'PRE_SCRIPT_TERMINATED':
    case 'PRE_SCRIPT_SUCCESS':
      return 'PRE';
    default:
      return 'IN_Q';
  }
}
