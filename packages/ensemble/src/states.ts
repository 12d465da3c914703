import { conflict } from './errors.js';

/** Where an ensemble workflow stands (pegasus-em's states; RUN_FAILED is FAILED here). */
export const WORKFLOW_STATES = [
  'READY',
  'PLANNING',
  'PLAN_FAILED',
  'QUEUED',
  'RUNNING',
  'SUCCESSFUL',
  'FAILED',
  'ABORTED',
] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

/** ACTIVE: plans and runs; PAUSED: nothing new is planned or started; HELD: as PAUSED, and running engines are held. */
export const ENSEMBLE_STATES = ['ACTIVE', 'PAUSED', 'HELD'] as const;
export type EnsembleState = (typeof ENSEMBLE_STATES)[number];

/** Trigger states (STOPPED: by the user or its timeout; FAILED: it could not fire). */
export const TRIGGER_STATES = ['RUNNING', 'STOPPED', 'FAILED'] as const;
export type TriggerState = (typeof TRIGGER_STATES)[number];

/** The user's state changes. */
export type WorkflowAction = 'replan' | 'rerun' | 'abort';

/** States a workflow may leave by each action, and where it goes. */
const ACTIONS: Record<WorkflowAction, { from: readonly WorkflowState[]; to: WorkflowState }> = {
  // plan again from scratch (a new submit dir)
  replan: { from: ['PLAN_FAILED', 'FAILED', 'ABORTED'], to: 'READY' },
  // run the same submit dir again: the engine resumes (finished jobs are not run again)
  rerun: { from: ['FAILED', 'ABORTED'], to: 'QUEUED' },
  abort: { from: ['READY', 'PLANNING', 'QUEUED', 'RUNNING'], to: 'ABORTED' },
};

/** The state `action` moves a workflow in `state` to; a conflict error when the state machine refuses. */
export function applyAction(
  ref: string,
  state: WorkflowState,
  action: WorkflowAction,
  hasSubmitDir = true,
): WorkflowState {
  const a = ACTIONS[action];
  if (!a.from.includes(state) || (action === 'rerun' && !hasSubmitDir))
    throw conflict(
      `${ref} is ${state}: ${action} applies to a workflow that is ${a.from.join(', ')}` +
        (action === 'rerun' ? ' and was planned' : ''),
    );
  return a.to;
}

/** True for the states a workflow only leaves by the user's hand. */
export function isFinal(state: WorkflowState): boolean {
  return state === 'PLAN_FAILED' || state === 'SUCCESSFUL' || state === 'FAILED' || state === 'ABORTED';
}

/** Parses an ensemble state name (case-insensitive). */
export function isEnsembleState(s: string): s is EnsembleState {
  return (ENSEMBLE_STATES as readonly string[]).includes(s);
}
