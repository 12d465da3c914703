import { describe, expect, it } from 'vitest';
import type { Dag } from '../src/dag.js';
import { parseDag } from '../src/dag-file.js';
import type { TaskCommand } from '../src/protocol.js';
import { type Dispatch, Scheduler, type SchedulerOptions } from '../src/scheduler.js';
import { WorkerQueue } from '../src/worker-queue.js';

const dag = (text: string, tries = 1) => parseDag(text, 'test.dag', { defaultTries: tries });
const none = (d: Dag) => new Uint8Array(d.size);
const names = (d: Dag, ids: number[]) => ids.map((i) => d.names[i]);
const sent = (ds: Dispatch[]) => ds.flatMap((x) => x.tasks);

function scheduler(d: Dag, opts: Partial<SchedulerOptions> = {}, done = none(d)): Scheduler {
  return new Scheduler(d, done, { maxFailures: 0, ...opts });
}

function addWorkers(s: Scheduler, n: number, host = 'h1', cpus = 2, memory = 1000, gpus = 0): void {
  for (let i = 0; i < n; i++) {
    const rank = s.workers.size + 1;
    s.addWorker(rank, { hostname: host, cpus, memory, gpus });
    s.setReady(rank);
  }
}

const ok = (id: number) => ({ id, ok: true, duration: 0.01 });
const bad = (id: number) => ({ id, ok: false, duration: 0.01 });
const nothing = { cpus: 0, memory: 0 };

const DIAMOND =
  'TASK A echo A\nTASK B echo B\nTASK C echo C\nTASK D echo D\nEDGE A B\nEDGE A C\nEDGE B D\nEDGE C D\n';

describe('Scheduler', () => {
  it('releases the diamond in dependency order', () => {
    const d = dag(DIAMOND);
    const s = scheduler(d);
    addWorkers(s, 1);
    expect(names(d, sent(s.dispatch()))).toEqual(['A']);
    expect(s.dispatch()).toEqual([]);
    const out = s.complete(1, [ok(0)], nothing, []);
    expect(names(d, out.done)).toEqual(['A']);
    expect(names(d, sent(s.dispatch()))).toEqual(['B', 'C']);
    s.complete(1, [ok(1)], nothing, []);
    expect(s.dispatch()).toEqual([]);
    s.complete(1, [ok(2)], nothing, []);
    expect(names(d, sent(s.dispatch()))).toEqual(['D']);
    s.complete(1, [ok(3)], nothing, []);
    expect(s.finished).toBe(true);
    expect(s.succeeded).toBe(true);
  });

  it('starts from the rescue log: done tasks are not run and satisfy their children', () => {
    const d = dag(DIAMOND);
    const done = none(d);
    done[0] = done[1] = done[2] = 1;
    const s = scheduler(d, {}, done);
    addWorkers(s, 1);
    expect(names(d, sent(s.dispatch()))).toEqual(['D']);
  });

  it('dispatches by priority, FIFO among equals', () => {
    const d = dag(
      'TASK N -p -5 t\nTASK O -p -4 t\nTASK E -p 7 t\nTASK D -p 8 -c 2 t\nTASK I -p 9 t\nTASK G -p 10 t\nTASK X t\nTASK Y t\n',
    );
    const s = scheduler(d);
    addWorkers(s, 1, 'h', 2);
    const order = names(d, sent(s.dispatch()));
    expect(order.length).toBeGreaterThanOrEqual(6);
    expect(order).toEqual(['G', 'I', 'D', 'E', 'X', 'Y', 'O', 'N'].slice(0, order.length));
  });

  it("takes tasks in PMC's order (priority, then DAG order) and says so through onScheduling", () => {
    // PMC's test_priority: one worker, --host-cpus 2; its -v -v trace is G I D E O N.
    const d = dag(
      [
        'TASK N -p -5 -c 1 /bin/echo N',
        'TASK O -p -4 -c 1 /bin/echo O',
        'TASK I -p 9 -c 1 /bin/echo I',
        'TASK E -p 7 -c 1 /bin/echo E',
        'TASK D -p 8 -c 2 /bin/echo D',
        'TASK G -p 10 -c 1 /bin/echo G',
      ].join('\n'),
    );
    const taken: number[] = [];
    const placed: number[] = [];
    const s = scheduler(d, {
      hostCpus: 2,
      onScheduling: (id) => taken.push(id),
      onAssigned: (id, w) => {
        expect(w.rank).toBe(1);
        placed.push(id);
      },
    });
    addWorkers(s, 1);
    const ds = s.dispatch();
    expect(names(d, taken)).toEqual(['G', 'I', 'D', 'E', 'O', 'N']);
    expect(placed).toEqual(sent(ds));
    expect(names(d, placed)).toEqual(['G', 'I', 'D', 'E', 'O', 'N']);
  });

  it('gives tasks of several CPUs disjoint CPU numbers until they report, and one-CPU tasks none', () => {
    const d = dag(
      ['TASK a -c 8 /bin/true', 'TASK b -c 3 /bin/true', 'TASK c -c 2 /bin/true', 'TASK d /bin/true'].join(
        '\n',
      ),
    );
    const fragmented: number[] = [];
    const s = scheduler(d, { hostCpus: 8, onFragmented: (id) => fragmented.push(id) });
    addWorkers(s, 2);
    // a takes every CPU: b and c may not wait at a worker holding CPU numbers, d (floating) may
    expect(names(d, sent(s.dispatch()))).toEqual(['a', 'd']);
    expect(s.bindingOf(0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s.bindingOf(3)).toBeUndefined();
    expect(s.dispatch()).toEqual([]);
    s.complete(1, [ok(0)], { cpus: 8, memory: 0 }, []);
    expect(s.bindingOf(0)).toBeUndefined();
    const next = sent(s.dispatch());
    expect(names(d, next)).toEqual(['b', 'c']);
    expect(s.bindingOf(1)).toEqual([0, 1, 2]);
    expect(s.bindingOf(2)).toEqual([3, 4]);
    // a lost worker's tasks give their CPUs back
    const owner = s.workers.get(1)!.outstanding.has(1) ? 1 : 2;
    s.workerLost(owner);
    expect(s.bindingOf(1)).toBeUndefined();
    expect(fragmented).toEqual([]);
  });

  it('gives tasks asking for GPUs distinct device ids of their host until they report', () => {
    const d = dag(['TASK a -g 2 t', 'TASK b -g 1 t', 'TASK c -g 1 t', 'TASK d t'].join('\n'));
    const s = scheduler(d, { hostCpus: 8 });
    addWorkers(s, 2, 'h1', 8, 1000, 3);
    // a and b take the host's 3 GPUs; c waits for one; d asks for none
    expect(names(d, sent(s.dispatch())).sort()).toEqual(['a', 'b', 'd']);
    expect(s.gpusOf(0)).toEqual([0, 1]);
    expect(s.gpusOf(1)).toEqual([2]);
    expect(s.gpusOf(3)).toBeUndefined();
    expect(s.hosts.get('h1')!.freeGpus).toEqual([]);
    expect(s.dispatch()).toEqual([]);
    const owner = (id: number) => (s.workers.get(1)!.outstanding.has(id) ? 1 : 2);
    s.complete(owner(0), [ok(0)], nothing, []);
    expect(s.gpusOf(0)).toBeUndefined();
    expect(names(d, sent(s.dispatch()))).toEqual(['c']);
    expect(s.gpusOf(2)).toEqual([0]);
    // a lost worker's tasks give their GPUs back
    const lost = owner(2);
    s.workerLost(lost);
    expect(s.gpusOf(2)).toBeUndefined();
    expect(s.hosts.get('h1')!.freeGpus).toEqual(owner(1) === lost ? [0, 1, 2] : [0, 1]);
  });

  it('overrides the GPUs hosts report with hostGpus and finds a task needing more GPUs than any host has', () => {
    const d = dag('TASK cpu t\nTASK gpu -g 2 t\n');
    const s = scheduler(d);
    addWorkers(s, 1, 'h', 2, 1000, 1);
    expect(s.findInfeasible()).toBe('gpu');
    const s2 = scheduler(d, { hostGpus: 2 });
    addWorkers(s2, 1, 'h', 2, 1000, 0);
    expect(s2.findInfeasible()).toBeUndefined();
    expect(s2.hosts.get('h')!.gpus).toBe(2);
  });

  it('retries a failed task up to its tries, then fails it for good and blocks its children', () => {
    const d = dag('TASK A -t 3 false\nTASK B true\nEDGE A B\n');
    const s = scheduler(d);
    addWorkers(s, 1);
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(names(d, sent(s.dispatch()))).toEqual(['A']);
      const out = s.complete(1, [bad(0)], nothing, []);
      expect(out.retried.length + out.failed.length).toBe(1);
      expect(out.failed.length).toBe(attempt === 3 ? 1 : 0);
    }
    expect(s.dispatch()).toEqual([]);
    expect(s.finished).toBe(true);
    expect(s.succeeded).toBe(false);
    expect(s.failedAttempts).toBe(3);
    expect(s.permanentFailures).toBe(1);
  });

  it('stops releasing after max failures', () => {
    const d = dag('TASK F false\nTASK T1 true\nTASK T2 true\nTASK Z true\nEDGE T1 Z\n');
    const s = scheduler(d, { maxFailures: 1 });
    addWorkers(s, 1, 'h', 1);
    const first = sent(s.dispatch());
    expect(names(d, first)[0]).toBe('F');
    s.complete(1, [bad(0)], nothing, []);
    expect(s.releaseStopped).toBe(true);
    // Tasks already sent still report; nothing new is released.
    s.complete(1, first.slice(1).map(ok), nothing, []);
    expect(s.dispatch()).toEqual([]);
    expect(s.finished).toBe(true);
    expect(s.isDone(d.indexOf('Z'))).toBe(false);
  });

  it('requeues the tasks of a lost worker without counting a failure', () => {
    const d = dag('TASK A t\nTASK B t\nTASK C t\nTASK D t\n');
    const s = scheduler(d);
    addWorkers(s, 2, 'h', 2);
    const ds = s.dispatch();
    const lostTasks = ds.find((x) => x.rank === 1)!.tasks;
    expect(s.workerLost(1).sort()).toEqual([...lostTasks].sort());
    expect(s.failedAttempts).toBe(0);
    const again = sent(s.dispatch());
    expect(again.sort()).toEqual([...lostTasks].sort());
    expect(s.workers.get(2)!.host.freeCpus + s.workers.get(2)!.heldCpus).toBe(2);
  });

  it('takes CPUs back from a worker holding a whole host while a neighbour holds nothing', () => {
    const d = dag(Array.from({ length: 40 }, (_, i) => `TASK t${i} /bin/true`).join('\n'));
    const s = scheduler(d);
    s.addWorker(1, { hostname: 'h', cpus: 2, memory: 1000 });
    s.addWorker(2, { hostname: 'h', cpus: 2, memory: 1000 });
    s.setReady(1); // the first to be ready gets both CPUs
    const first = s.dispatch();
    expect(first.map((x) => [x.rank, x.grant.cpus])).toEqual([[1, 2]]);
    s.setReady(2);
    // worker 1 reports two tasks and keeps its CPUs: it gets no more (prefetch paused), 2 nothing
    s.complete(1, [ok(first[0].tasks[0]), ok(first[0].tasks[1])], nothing, []);
    expect(s.dispatch()).toEqual([]);
    // its queue drains; it gives one CPU back: that one goes to worker 2
    s.complete(1, [ok(first[0].tasks[2])], { cpus: 1, memory: 0 }, []);
    const next = s.dispatch();
    expect(next.find((x) => x.rank === 2)?.grant.cpus).toBe(1);
    expect(s.hosts.get('h')!.freeCpus).toBe(0);
    // once both hold a fair share, both get prefetch again
    s.complete(2, [ok(next.find((x) => x.rank === 2)!.tasks[0])], nothing, []);
    s.complete(1, [ok(first[0].tasks[3])], nothing, []);
    expect(
      s
        .dispatch()
        .map((x) => x.rank)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('finds a task no host can run', () => {
    const d = dag('TASK small t\nTASK big -c 3 t\nTASK mem -m 2000 t\n');
    const s = scheduler(d);
    addWorkers(s, 1, 'h', 2, 1000);
    expect(s.findInfeasible()).toBe('big');
    const s2 = scheduler(d, { hostCpus: 4, hostMemory: 4000 });
    addWorkers(s2, 1, 'h', 2, 1000);
    expect(s2.findInfeasible()).toBeUndefined();
  });

  it('holds back tasks that cannot finish before the deadline', () => {
    const d = dag('TASK A long\nTASK B long\nTASK C short\nTASK D short\n');
    const s = scheduler(d, { deadline: 10_000 });
    addWorkers(s, 1, 'h', 1);
    const first = sent(s.dispatch(0));
    expect(first).toEqual([0, 1, 2, 3]);
    // A (5 s) and C (0.5 s) ran; B and D come back unstarted.
    s.complete(
      1,
      [
        { id: 0, ok: true, duration: 5 },
        { id: 2, ok: true, duration: 0.5 },
      ],
      { cpus: 1, memory: 0 },
      [1, 3],
    );
    // At 8 s, 2 s remain: 'long' cannot finish, 'short' can.
    expect(names(d, sent(s.dispatch(8_000)))).toEqual(['D']);
    s.complete(1, [{ id: 3, ok: true, duration: 0.5 }], { cpus: 1, memory: 0 }, []);
    expect(s.dispatch(8_000)).toEqual([]);
    expect(s.blockedByDeadline(8_000)).toBe(true);
    expect(s.blockedByDeadline(1_000)).toBe(false);
  });
});

/**
 * A randomized simulation of master and workers exchanging messages with delays, using the
 * real Scheduler and WorkerQueue: no host ever runs more CPUs, memory or GPUs than it has (tasks
 * running at once never share a CPU number or a GPU), every task runs exactly once after all
 * its parents, and the run ends.
 */
describe('Scheduler + WorkerQueue simulation', () => {
  function simulate(
    seed: number,
    text: string,
    hosts: { name: string; cpus: number; memory: number; gpus?: number; workers: number }[],
    /** tasks chained behind each running one, as the worker does (0: none) */
    chainDepth: number,
  ) {
    let rnd = seed;
    const random = () => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      return rnd / 0x7fffffff;
    };
    const d = dag(text);
    const s = scheduler(d);
    const queues = new Map<number, WorkerQueue>();
    const hostOf = new Map<number, string>();
    for (const h of hosts) {
      for (let i = 0; i < h.workers; i++) {
        const rank = queues.size + 1;
        s.addWorker(rank, { hostname: h.name, cpus: h.cpus, memory: h.memory, gpus: h.gpus ?? 0 });
        s.setReady(rank);
        queues.set(rank, new WorkerQueue());
        hostOf.set(rank, h.name);
      }
    }
    type Msg = { at: number; toMaster: boolean; rank: number; payload: unknown };
    let clock = 0;
    const wire: Msg[] = [];
    const running: { rank: number; task: TaskCommand; end: number; chain: TaskCommand[] }[] = [];
    /** Per host, the CPU numbers of the bound tasks running now. */
    const cores = new Map<string, Set<number>>(hosts.map((h) => [h.name, new Set()]));
    let bound = 0;
    /** Per host, the GPU device ids of the tasks running now. */
    const devices = new Map<string, Set<number>>(hosts.map((h) => [h.name, new Set()]));
    const ran = new Map<number, number>();
    const finishedAt = new Map<number, number>();
    const usage = new Map<string, { cpus: number; memory: number }>(
      hosts.map((h) => [h.name, { cpus: 0, memory: 0 }]),
    );
    const send = (toMaster: boolean, rank: number, payload: unknown) =>
      wire.push({ at: clock + 1 + Math.floor(random() * 5), toMaster, rank, payload });
    const run = (rank: number, t: TaskCommand, chain: TaskCommand[] = []) => {
      const u = usage.get(hostOf.get(rank)!)!;
      u.cpus += t.cpus;
      u.memory += t.memory;
      const host = hosts.find((h) => h.name === hostOf.get(rank))!;
      expect(u.cpus).toBeLessThanOrEqual(host.cpus);
      expect(u.memory).toBeLessThanOrEqual(host.memory);
      for (const p of parentsOf(d, t.id)) expect(finishedAt.has(p)).toBe(true);
      // Tasks running at the same time on a host never share a CPU number.
      const inUse = cores.get(hostOf.get(rank)!)!;
      for (const c of t.affinity ?? []) {
        expect(inUse.has(c)).toBe(false);
        inUse.add(c);
      }
      if (t.affinity) bound++;
      // Tasks running at the same time on a host never share a GPU, and use only GPUs it has.
      const busy = devices.get(hostOf.get(rank)!)!;
      expect(t.gpus?.length ?? 0).toBe(d.gpus[t.id]);
      for (const g of t.gpus ?? []) {
        expect(busy.has(g)).toBe(false);
        expect(g).toBeLessThan(host.gpus ?? 0);
        busy.add(g);
      }
      ran.set(t.id, (ran.get(t.id) ?? 0) + 1);
      // As the worker does: waiting tasks are chained behind this one when they fit.
      while (chain.length < chainDepth) {
        const next = queues.get(rank)!.chainAfter(chain.at(-1) ?? t);
        if (!next) break;
        chain.push(next);
      }
      running.push({ rank, task: t, end: clock + 1 + Math.floor(random() * 10), chain });
    };
    const pump = (rank: number) => {
      const q = queues.get(rank)!;
      for (let t = q.next(); t; t = q.next()) run(rank, t);
    };
    const dispatch = () => {
      for (const x of s.dispatch(clock)) {
        const tasks: TaskCommand[] = x.tasks.map((id) => ({
          id,
          attempt: 1,
          name: d.names[id],
          argv: d.argv[id],
          cpus: d.cpus[id],
          memory: d.memory[id],
          affinity: s.bindingOf(id),
          gpus: s.gpusOf(id),
        }));
        send(false, x.rank, { grant: x.grant, tasks });
      }
    };
    dispatch();
    for (let step = 0; step < 100_000 && !s.finished; step++) {
      clock++;
      // tasks ending
      for (let i = running.length - 1; i >= 0; i--) {
        const r = running[i];
        if (r.end > clock) continue;
        running.splice(i, 1);
        const q = queues.get(r.rank)!;
        const [successor, ...rest] = r.chain;
        q.finish(r.task, successor);
        for (const c of r.task.affinity ?? []) cores.get(hostOf.get(r.rank)!)!.delete(c);
        for (const g of r.task.gpus ?? []) devices.get(hostOf.get(r.rank)!)!.delete(g);
        const u = usage.get(hostOf.get(r.rank)!)!;
        u.cpus -= r.task.cpus;
        u.memory -= r.task.memory;
        finishedAt.set(r.task.id, clock);
        if (successor) run(r.rank, successor, rest);
        pump(r.rank);
        send(true, r.rank, { results: [ok(r.task.id)], released: q.release(), rejected: [] });
      }
      // messages arriving
      for (let i = 0; i < wire.length; i++) {
        const m = wire[i];
        if (m.at > clock) continue;
        wire.splice(i--, 1);
        if (m.toMaster) {
          const p = m.payload as {
            results: ReturnType<typeof ok>[];
            released: { cpus: number; memory: number };
            rejected: number[];
          };
          s.complete(m.rank, p.results, p.released, p.rejected);
        } else {
          const p = m.payload as { grant: { cpus: number; memory: number }; tasks: TaskCommand[] };
          const q = queues.get(m.rank)!;
          const rejected = q.accept(p.grant, p.tasks);
          pump(m.rank);
          send(true, m.rank, { results: [], released: q.release(), rejected });
        }
      }
      dispatch();
    }
    expect(s.finished).toBe(true);
    expect(s.succeeded).toBe(true);
    for (let i = 0; i < d.size; i++) expect(ran.get(i)).toBe(1);
    // Every task of several CPUs was bound (a host's CPUs never fragment here).
    let multi = 0;
    for (let i = 0; i < d.size; i++) if (d.cpus[i] > 1) multi++;
    expect(bound).toBe(multi);
  }

  function parentsOf(d: Dag, id: number): number[] {
    const out: number[] = [];
    for (let p = 0; p < d.size; p++) if (d.children(p).includes(id)) out.push(p);
    return out;
  }

  function randomDag(seed: number, n: number, gpus = false): string {
    let rnd = seed;
    const random = () => {
      rnd = (rnd * 16807) % 2147483647;
      return rnd / 2147483647;
    };
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = Math.floor(random() * 3); // 0..2 cpus
      const m = Math.floor(random() * 3) * 100;
      const p = Math.floor(random() * 5) - 2;
      const g = gpus ? ` -g ${Math.max(0, Math.floor(random() * 5) - 2)}` : ''; // 0..2 gpus
      lines.push(`TASK t${i} -c ${c} -m ${m}${g} -p ${p} /bin/true`);
    }
    for (let i = 1; i < n; i++) {
      if (random() < 0.5) lines.push(`EDGE t${Math.floor(random() * i)} t${i}`);
    }
    return lines.join('\n');
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    for (const depth of [0, 1, 4]) {
      it(`keeps every host within its resources (seed ${seed}, ${depth} chained behind each task)`, () => {
        simulate(
          seed,
          randomDag(seed, 150),
          [
            { name: 'a', cpus: 2, memory: 300, workers: 2 },
            { name: 'b', cpus: 4, memory: 1000, workers: 3 },
          ],
          depth,
        );
      });
    }
  }

  for (const seed of [6, 7, 8]) {
    for (const depth of [0, 4]) {
      it(`packs GPUs like CPUs and memory (seed ${seed}, ${depth} chained behind each task)`, () => {
        simulate(
          seed,
          randomDag(seed, 150, true),
          [
            { name: 'a', cpus: 2, memory: 300, gpus: 2, workers: 2 },
            { name: 'b', cpus: 4, memory: 1000, gpus: 3, workers: 3 },
          ],
          depth,
        );
      });
    }
  }
});
