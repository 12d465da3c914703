import { describe, expect, it } from 'vitest';
import { TaskQueue } from '../src/task-queue.js';

describe('TaskQueue', () => {
  it('pops by priority, then first in first out', () => {
    const prio = Int32Array.from([0, 5, 0, 5, -1, 9]);
    const q = new TaskQueue(prio, 2);
    for (const id of [0, 1, 2, 3, 4, 5]) q.push(id);
    const out: number[] = [];
    for (let id = q.pop(); id !== -1; id = q.pop()) out.push(id);
    expect(out).toEqual([5, 1, 3, 0, 2, 4]);
  });

  it('matches a sort on many random items', () => {
    const n = 5000;
    const prio = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 13);
    const q = new TaskQueue(prio);
    for (let i = 0; i < n; i++) q.push(i);
    const expected = [...Array(n).keys()].sort((a, b) => prio[b] - prio[a] || a - b);
    const out: number[] = [];
    while (q.size > 0) out.push(q.pop());
    expect(out).toEqual(expected);
  });
});

describe('TaskQueue.every', () => {
  it('tests every queued task without changing the queue or its order', () => {
    const prio = Int32Array.from([1, 1, 1, 0]);
    const q = new TaskQueue(prio);
    for (const id of [0, 1, 2, 3]) q.push(id);
    expect(q.every((id) => id < 4)).toBe(true);
    expect(q.every((id) => id !== 3)).toBe(false);
    const out: number[] = [];
    while (q.size > 0) out.push(q.pop());
    expect(out).toEqual([0, 1, 2, 3]);
  });
});
