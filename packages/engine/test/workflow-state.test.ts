import { describe, expect, it } from 'vitest';
import { JobState } from '../src/job-state.js';
import { parsePlan } from '../src/plan-file.js';
import { WorkflowState } from '../src/workflow-state.js';

function plan(
  jobs: { name: string; priority?: number; retries?: number; kind?: string }[],
  edges: [string, string][],
) {
  const text = [
    'plan: "1.0"',
    'label: t',
    'jobs:',
    ...jobs.map(
      (j) =>
        `  - {name: ${j.name}, kind: ${j.kind ?? 'compute'}, site: local, command: [/bin/true], retries: ${j.retries ?? 0}, priority: ${j.priority ?? 0}}`,
    ),
    edges.length ? 'edges:' : 'edges: []',
    ...edges.map(([p, c]) => `  - [${p}, ${c}]`),
  ].join('\n');
  return parsePlan(text, 'plan.yml', '/tmp');
}

const all = () => true;

describe('WorkflowState', () => {
  it('starts roots by priority, then plan order, and releases children after success', () => {
    const p = plan(
      [{ name: 'a', priority: 1 }, { name: 'b', priority: 5 }, { name: 'c', priority: 5 }, { name: 'd' }],
      [
        ['a', 'd'],
        ['b', 'd'],
      ],
    );
    const s = new WorkflowState(p, () => 'x');
    s.release();
    expect(s.count(JobState.READY)).toBe(3);
    const order = [s.pick(all), s.pick(all), s.pick(all)].map((i) => p.jobs[i as number].name);
    expect(order).toEqual(['b', 'c', 'a']);
    expect(s.pick(all)).toBeUndefined();
    expect(s.finish(p.index.get('a') as number, 'success')).toBe('done');
    expect(s.pick(all)).toBeUndefined(); // d still waits for b
    s.finish(p.index.get('b') as number, 'success');
    expect(p.jobs[s.pick(all) as number].name).toBe('d');
  });

  it('retries a failed job up to its retries, then fails it for good and leaves its children unready', () => {
    const p = plan([{ name: 'a', retries: 1 }, { name: 'b' }], [['a', 'b']]);
    const s = new WorkflowState(p, () => 'x');
    s.release();
    const a = s.pick(all) as number;
    expect(s.finish(a, 'failure')).toBe('retry');
    expect(s.pick(all)).toBe(a);
    expect(s.attempts[a]).toBe(2);
    expect(s.finish(a, 'failure')).toBe('failed');
    expect(s.count(JobState.FAILURE)).toBe(1);
    expect(s.count(JobState.UNREADY)).toBe(1);
    expect(s.finished).toBe(true);
    expect(s.succeeded).toBe(false);
  });

  it('does not count evicted or lost attempts against the retries', () => {
    const p = plan([{ name: 'a', retries: 0 }], []);
    const s = new WorkflowState(p, () => 'x');
    s.release();
    for (const outcome of ['evicted', 'lost', 'evicted'] as const) {
      const a = s.pick(all) as number;
      expect(s.finish(a, outcome)).toBe('retry');
    }
    const a = s.pick(all) as number;
    expect(s.attempts[a]).toBe(4);
    expect(s.finish(a, 'success')).toBe('done');
    expect(s.succeeded).toBe(true);
  });

  it('lets another lane go ahead when the best lane cannot start', () => {
    const p = plan(
      [
        { name: 'big', priority: 9 },
        { name: 'small', priority: 1, kind: 'stage-in' },
      ],
      [],
    );
    const s = new WorkflowState(p, (i) => p.jobs[i].kind);
    s.release();
    const picked = s.pick((j) => p.jobs[j].name !== 'big');
    expect(p.jobs[picked as number].name).toBe('small');
    expect(s.count(JobState.READY)).toBe(1);
    expect(p.jobs[s.pick(all) as number].name).toBe('big');
  });

  it('restores succeeded jobs and releases what they unblock', () => {
    const p = plan(
      [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
    );
    const s = new WorkflowState(p, () => 'x');
    s.restoreSuccess(0);
    s.release();
    expect(s.count(JobState.SUCCESS)).toBe(1);
    expect(p.jobs[s.pick(all) as number].name).toBe('b');
    expect(s.pick(all)).toBeUndefined();
  });
});
