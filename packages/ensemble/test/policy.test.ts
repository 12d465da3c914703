import { describe, expect, it } from 'vitest';
import { type Candidate, nextMoves } from '../src/policy.js';
import type { WorkflowState } from '../src/states.js';

const wf = (id: number, state: WorkflowState, priority = 0): Candidate => ({ id, state, priority, seq: id });

describe('nextMoves (throttles and priorities)', () => {
  it('plans READY workflows up to max_planning and starts QUEUED ones up to max_running, higher priority first', () => {
    const ws = [
      wf(1, 'READY', 0),
      wf(2, 'READY', 5),
      wf(3, 'READY', 5),
      wf(4, 'QUEUED', -1),
      wf(5, 'QUEUED', 3),
    ];
    expect(nextMoves(ws, { maxPlanning: 2, maxRunning: 1 }, true)).toEqual({ plan: [2, 3], run: [5] });
  });

  it('counts what already plans and runs, and never exceeds a limit (also a lowered one)', () => {
    const ws = [
      wf(1, 'PLANNING'),
      wf(2, 'READY'),
      wf(3, 'RUNNING'),
      wf(4, 'RUNNING'),
      wf(5, 'RUNNING'),
      wf(6, 'QUEUED'),
    ];
    expect(nextMoves(ws, { maxPlanning: 1, maxRunning: 2 }, true)).toEqual({ plan: [], run: [] });
    expect(nextMoves(ws, { maxPlanning: 2, maxRunning: 4 }, true)).toEqual({ plan: [2], run: [6] });
  });

  it('keeps submission order between equal priorities, and moves nothing in a paused or held ensemble', () => {
    const ws = [wf(3, 'READY', 1), wf(1, 'READY', 1), wf(2, 'READY', 1)];
    expect(nextMoves(ws, { maxPlanning: 3, maxRunning: 1 }, true).plan).toEqual([1, 2, 3]);
    expect(nextMoves(ws, { maxPlanning: 3, maxRunning: 1 }, false)).toEqual({ plan: [], run: [] });
  });

  it('ignores workflows in final states', () => {
    const ws = [wf(1, 'SUCCESSFUL'), wf(2, 'FAILED'), wf(3, 'PLAN_FAILED'), wf(4, 'ABORTED'), wf(5, 'READY')];
    expect(nextMoves(ws, { maxPlanning: 1, maxRunning: 1 }, true)).toEqual({ plan: [5], run: [] });
  });
});
