import { describe, expect, it } from 'vitest';
import { DagBuilder } from '../src/dag.js';

describe('DagBuilder / Dag', () => {
  it('builds CSR children in EDGE order with distinct parent counts', () => {
    const b = new DagBuilder({ defaultTries: 2 });
    for (const n of ['r', 'x', 'y', 'z']) b.addTask({ name: n, argv: ['/bin/true'] });
    b.addEdge('r', 'z');
    b.addEdge('r', 'x');
    b.addEdge('x', 'y');
    b.addEdge('z', 'y');
    const dag = b.build('mem.dag')!;
    expect(dag).toBeDefined();
    expect([...dag.children(0)]).toEqual([3, 1]);
    expect([...dag.parentCount]).toEqual([0, 1, 2, 1]);
    expect([...dag.tries]).toEqual([2, 2, 2, 2]);
    expect(dag.edgeCount).toBe(4);
  });

  it('resolves tries: 0 counts as 1, undefined takes the default', () => {
    const b = new DagBuilder({ defaultTries: 4 });
    b.addTask({ name: 'a', argv: ['x'], tries: 0 });
    b.addTask({ name: 'b', argv: ['x'] });
    b.addTask({ name: 'c', argv: ['x'], tries: 7 });
    expect([...b.build('t')!.tries]).toEqual([1, 4, 7]);
  });

  it('reports duplicate tasks, self and duplicate edges, unknown tasks, with lines', () => {
    const b = new DagBuilder();
    b.addTask({ name: 'a', argv: ['x'] }, 1);
    b.addTask({ name: 'a', argv: ['x'] }, 2);
    b.addTask({ name: 'b', argv: ['x'] }, 3);
    b.addEdge('a', 'a', 4);
    b.addEdge('a', 'b', 5);
    b.addEdge('a', 'b', 6);
    b.addEdge('a', 'q', 7);
    expect(b.build('d')).toBeUndefined();
    expect(b.issues.map((i) => i.line).sort()).toEqual([2, 4, 6, 7]);
  });

  it('finds a cycle behind a long chain', () => {
    const b = new DagBuilder();
    const n = 50_000;
    for (let i = 0; i < n; i++) b.addTask({ name: `t${i}`, argv: ['x'] });
    for (let i = 1; i < n; i++) b.addEdgeIndex(i - 1, i, i);
    b.addEdgeIndex(n - 1, n - 3, n);
    expect(b.build('c')).toBeUndefined();
    expect(b.issues).toHaveLength(1);
    expect(b.issues[0].line).toBe(n);
    expect(b.issues[0].message).toMatch(
      /^cycle t4999[789] -> t4999[789] -> t4999[789] -> t4999[789] \(3 tasks; 3 tasks/,
    );
  });

  it('shares no state between tasks for forwards', () => {
    const b = new DagBuilder();
    b.addTask({ name: 'a', argv: ['x'], pipeForwards: [['V', '/p']] });
    b.addTask({ name: 'b', argv: ['x'] });
    const dag = b.build('f')!;
    expect(dag.pipeForwards(0)).toEqual([['V', '/p']]);
    expect(dag.pipeForwards(1)).toEqual([]);
    expect(dag.fileForwards(0)).toEqual([]);
  });
});
