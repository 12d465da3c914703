import { describe, expect, it } from 'vitest';
import type { TaskCommand } from '../src/protocol.js';
import { WorkerQueue } from '../src/worker-queue.js';

const task = (id: number, cpus = 1, memory = 0): TaskCommand => ({
  id,
  attempt: 1,
  name: `t${id}`,
  argv: ['true'],
  cpus,
  memory,
});

describe('WorkerQueue', () => {
  it('runs what the grant covers and queues the rest in order', () => {
    const q = new WorkerQueue();
    expect(q.accept({ cpus: 2, memory: 0 }, [task(1), task(2), task(3)])).toEqual([]);
    expect(q.next()?.id).toBe(1);
    expect(q.next()?.id).toBe(2);
    expect(q.next()).toBeUndefined();
    expect(q.release()).toEqual({ cpus: 0, memory: 0 }); // task 3 waits: nothing released
    q.finish(task(1));
    expect(q.next()?.id).toBe(3);
    q.finish(task(2));
    expect(q.release()).toEqual({ cpus: 1, memory: 0 });
    expect(q.heldCpus).toBe(1);
  });

  it('rejects a task larger than what is held', () => {
    const q = new WorkerQueue();
    expect(q.accept({ cpus: 1, memory: 100 }, [task(1, 2), task(2, 1, 200), task(3)])).toEqual([1, 2]);
    expect(q.next()?.id).toBe(3);
  });

  it('keeps a big task waiting until enough is free (head of line)', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 2, memory: 0 }, [task(1), task(2, 2), task(3)]);
    expect(q.next()?.id).toBe(1);
    expect(q.next()).toBeUndefined();
    q.finish(task(1));
    expect(q.next()?.id).toBe(2);
  });

  it('drains waiting tasks on stop', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 0 }, [task(1), task(2), task(3)]);
    q.next();
    expect(q.drainWaiting().map((t) => t.id)).toEqual([2, 3]);
    expect(q.waitingCount).toBe(0);
  });
});

describe('WorkerQueue.chainAfter', () => {
  it('takes the next task behind a running one that it fits in; it runs in what that one frees', () => {
    const q = new WorkerQueue();
    expect(
      q.accept({ cpus: 2, memory: 200 }, [task(1, 1, 100), task(2, 1, 50), task(3, 1, 100), task(4)]),
    ).toEqual([]);
    const first = q.next()!;
    const second = q.chainAfter(first)!;
    expect(second.id).toBe(2);
    expect(q.runningCpus).toBe(1); // a lane uses one task's resources
    expect(q.waitingCount).toBe(2);
    expect(q.chainAfter(second)).toBeUndefined(); // 3 needs more memory than 2 uses
    q.finish(first, second); // 1 ends: 2 runs in its place
    expect(q.runningCpus).toBe(1);
    expect(q.runningMemory).toBe(50);
    expect(q.running).toBe(1);
    expect(q.next()?.id).toBe(3); // the second CPU was free all along
    q.finish(second);
    expect(q.runningCpus).toBe(1);
  });

  it('chains many deep in one lane without using more than the lane', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 0 }, [task(1), task(2), task(3), task(4)]);
    const lane = [q.next()!];
    for (let t = q.chainAfter(lane[0]); t; t = q.chainAfter(lane[lane.length - 1])) lane.push(t);
    expect(lane.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    expect(q.runningCpus).toBe(1);
    for (let i = 0; i < lane.length; i++) {
      q.finish(lane[i], lane[i + 1]);
      expect(q.runningCpus).toBe(i + 1 < lane.length ? 1 : 0);
    }
    expect(q.release()).toEqual({ cpus: 1, memory: 0 });
  });

  it('lets a new lane start on what another lane that ran dry gave back', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 2, memory: 0 }, [task(1), task(2), task(3), task(4)]);
    const a = q.next()!;
    const b = q.next()!;
    const b2 = q.chainAfter(b)!;
    const b3 = q.chainAfter(b2)!;
    expect(b3.id).toBe(4);
    expect(q.chainAfter(a)).toBeUndefined(); // nothing left to chain
    q.finish(a); // lane a ran dry while lane b still has two chained
    q.accept({ cpus: 0, memory: 0 }, [task(5)]);
    expect(q.next()?.id).toBe(5);
  });

  it('does not chain a task with a latest start time', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 0 }, [task(1), { ...task(2), latestStart: Date.now() + 1000 }]);
    const first = q.next()!;
    expect(q.chainAfter(first)).toBeUndefined();
  });
});

describe('WorkerQueue.release with a chained task', () => {
  it('never gives back what a lane still uses, nor a negative amount', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 10 }, [task(1, 1, 10), task(2, 1, 10)]);
    const first = q.next()!;
    const second = q.chainAfter(first)!;
    expect(q.release()).toEqual({ cpus: 0, memory: 0 });
    expect(q.heldCpus).toBe(1);
    q.finish(first, second);
    expect(q.release()).toEqual({ cpus: 0, memory: 0 });
    q.finish(second);
    expect(q.release()).toEqual({ cpus: 1, memory: 10 });
    expect(q.heldCpus).toBe(0);
  });
});
