import type { WorkflowState } from './states.js';

/** What the scheduling policy needs of a workflow. */
export interface Candidate {
  id: number;
  state: WorkflowState;
  priority: number;
  /** submission order (ties of priority go first come, first served) */
  seq: number;
}

/** An ensemble's throttles. */
export interface Limits {
  maxPlanning: number;
  maxRunning: number;
}

/** Higher priority first, then submission order. */
export function byPriority(a: Candidate, b: Candidate): number {
  return b.priority - a.priority || a.seq - b.seq;
}

/**
 * Which workflows of one ACTIVE ensemble to move now: READY ones to PLANNING while fewer than
 * maxPlanning plan, QUEUED ones to RUNNING while fewer than maxRunning run, each in priority
 * order. A PAUSED or HELD ensemble moves nothing new. The limits are never exceeded: a lowered
 * limit stops new moves until enough end, it stops nothing that runs.
 */
export function nextMoves(
  workflows: readonly Candidate[],
  limits: Limits,
  active: boolean,
): { plan: number[]; run: number[] } {
  if (!active) return { plan: [], run: [] };
  const count = (s: WorkflowState) => workflows.filter((w) => w.state === s).length;
  const pick = (s: WorkflowState, free: number) =>
    free <= 0
      ? []
      : workflows
          .filter((w) => w.state === s)
          .sort(byPriority)
          .slice(0, free)
          .map((w) => w.id);
  return {
    plan: pick('READY', limits.maxPlanning - count('PLANNING')),
    run: pick('QUEUED', limits.maxRunning - count('RUNNING')),
  };
}
