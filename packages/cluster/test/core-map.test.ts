import { describe, expect, it } from 'vitest';
import { CoreMap } from '../src/core-map.js';

// PMC's test-scheduler cases: a host of 8 threads on 4 cores over 2 sockets.
describe("CoreMap (PMC's CPU binding rule)", () => {
  it('never binds a one-CPU task; aligns a two-CPU task on a core and a four-CPU one on a socket', () => {
    const h = new CoreMap(8, 4, 2);
    expect(h.allocate(1, 1)).toEqual([]);
    expect(h.allocate(2, 2)).toEqual([0, 1]);
    expect(h.allocate(4, 4)).toEqual([4, 5, 6, 7]);
    h.release(1, []);
    h.release(2, [0, 1]);
    h.release(4, [4, 5, 6, 7]);
    expect(h.allocate(8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives two four-CPU tasks one socket each, then the first core freed to a two-CPU task', () => {
    const h = new CoreMap(8, 4, 2);
    expect(h.allocate(1, 4)).toEqual([0, 1, 2, 3]);
    expect(h.allocate(2, 4)).toEqual([4, 5, 6, 7]);
    h.release(1, [0, 1, 2, 3]);
    expect(h.allocate(3, 2)).toEqual([0, 1]);
  });

  it('leaves a task unbound when the free CPUs are fragmented', () => {
    const h = new CoreMap(8, 4, 2);
    const given = [1, 2, 3, 4].map((t) => h.allocate(t, 2)!);
    expect(given).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    h.release(2, given[1]);
    h.release(3, given[2]);
    expect(h.free).toBe(4);
    // {2,3} and {4,5} are free but not one socket-aligned run of four.
    expect(h.allocate(5, 4)).toBeUndefined();
  });

  it('with one core per CPU (--host-cpus), takes the first free run; an 8-CPU task gets every CPU', () => {
    const h = new CoreMap(8);
    expect(h.allocate(1, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(h.find(2)).toEqual([]);
    h.release(1, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(h.allocate(2, 3)).toEqual([0, 1, 2]);
    expect(h.allocate(3, 2)).toEqual([3, 4]);
    h.release(2, [0, 1, 2]);
    expect(h.allocate(4, 2)).toEqual([0, 1]);
    expect(h.allocate(5, 4)).toBeUndefined();
    // release only frees what the task holds
    h.release(9, [3, 4]);
    expect(h.find(3)).toEqual([5, 6, 7]);
  });

  it('never binds more CPUs than the host has', () => {
    expect(new CoreMap(2).allocate(1, 3)).toBeUndefined();
  });
});
