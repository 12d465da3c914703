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
  it('reserves the next task behind a running one that it fits in', () => {
    const q = new WorkerQueue();
    expect(
      q.accept({ cpus: 1, memory: 100 }, [task(1, 1, 100), task(2, 1, 50), task(3, 1, 100), task(4)]),
    ).toEqual([]);
    const first = q.next()!;
    expect(q.chainAfter(first)?.id).toBe(2);
    expect(q.next()).toBeUndefined(); // nothing free while 1 runs and 2 is reserved
    q.finish(first); // 1 ends: 2 runs in its place
    expect(q.runningCpus).toBe(1);
    expect(q.next()).toBeUndefined();
    const second = task(2, 1, 50);
    expect(q.chainAfter(second)).toBeUndefined(); // 3 needs more memory than 2 uses
    q.finish(second);
    expect(q.next()?.id).toBe(3);
  });

  it('does not chain a task with a latest start time', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 0 }, [task(1), { ...task(2), latestStart: Date.now() + 1000 }]);
    const first = q.next()!;
    expect(q.chainAfter(first)).toBeUndefined();
  });
});

describe('WorkerQueue.release with a chained task', () => {
  it('never gives back more than is free, nor a negative amount', () => {
    const q = new WorkerQueue();
    q.accept({ cpus: 1, memory: 10 }, [task(1, 1, 10), task(2, 1, 10)]);
    const first = q.next()!;
    q.chainAfter(first);
    expect(q.release()).toEqual({ cpus: 0, memory: 0 });
    expect(q.heldCpus).toBe(1);
    q.finish(first);
    expect(q.release()).toEqual({ cpus: 0, memory: 0 });
    q.finish(task(2, 1, 10));
    expect(q.release()).toEqual({ cpus: 1, memory: 10 });
    expect(q.heldCpus).toBe(0);
  });
});
