/** pegasus-status's columns. */
export type JobCategory = 'UNREADY' | 'READY' | 'PRE' | 'IN_Q' | 'POST' | 'DONE' | 'FAIL';

/**
 * The status column of a job from its last jobstate event. `canRetry`: the job's failed attempts
 * since the last engine end are at most its retries (the engine will try again); `running`: the
 * workflow runs. An attempt aborted (removed, lost) or evicted (time limit) does not count as a
 * failure: the job is READY, to run again now or when the workflow is resumed. A job with no
 * event is UNREADY or READY (decided from its parents by the caller: null here).
 */
export function jobCategory(state: string | null, canRetry: boolean, running: boolean): JobCategory | null {
  switch (state) {
    case null:
      return null;
    case 'POST_SCRIPT_SUCCESS':
      return 'DONE';
    case 'POST_SCRIPT_FAILURE':
    case 'SUBMIT_FAILED':
      return running && canRetry ? 'READY' : 'FAIL';
    case 'JOB_ABORTED':
    case 'JOB_EVICTED':
      return 'READY';
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
