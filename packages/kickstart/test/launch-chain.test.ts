import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLauncher,
  LaunchCancelledError,
  type Launcher,
  type LaunchHandle,
  type LaunchResult,
} from '../src/launcher.js';
import { tempDir, waitForFile } from './helpers.js';

const probe = createLauncher();
const built = probe.kind === 'native';
await probe.close();

const kinds = (built ? ['native', 'node'] : ['node']) as ('native' | 'node')[];

/** end of a task in epoch ms */
const endOf = (r: LaunchResult) => r.start + r.duration * 1000;

/** epoch ns written by `date +%s%N` */
async function stamp(path: string): Promise<bigint> {
  return BigInt((await readFile(path, 'utf8')).trim());
}

describe.each(kinds)('%s launcher: launch after another task', (kind) => {
  let launcher: Launcher;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    launcher = createLauncher({ kind });
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(async () => {
    await launcher.close();
    await cleanup();
  });

  it('starts B right after A has ended', async () => {
    const a = launcher.launch({ argv: ['sh', '-c', 'sleep 0.2; date +%s%N > a1'], cwd: dir });
    const b = launcher.launch({ argv: ['sh', '-c', 'date +%s%N > b1'], cwd: dir }, { after: a });
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra.status).toEqual({ kind: 'exit', code: 0 });
    expect(rb.status).toEqual({ kind: 'exit', code: 0 });
    expect(await stamp(join(dir, 'b1'))).toBeGreaterThanOrEqual(await stamp(join(dir, 'a1')));
    expect(rb.start).toBeGreaterThanOrEqual(endOf(ra) - 1);
    if (kind === 'native') expect(rb.start - endOf(ra)).toBeLessThan(20);
  });

  it('runs a chain of three in order', async () => {
    const a = launcher.launch({ argv: ['sh', '-c', 'sleep 0.1; date +%s%N > a2'], cwd: dir });
    const b = launcher.launch({ argv: ['sh', '-c', 'sleep 0.05; date +%s%N > b2'], cwd: dir }, { after: a });
    const c = launcher.launch({ argv: ['sh', '-c', 'date +%s%N > c2'], cwd: dir }, { after: b });
    const [ra, rb, rc] = await Promise.all([a.result, b.result, c.result]);
    for (const r of [ra, rb, rc]) expect(r.status).toEqual({ kind: 'exit', code: 0 });
    const [sa, sb, sc] = await Promise.all(['a2', 'b2', 'c2'].map((f) => stamp(join(dir, f))));
    expect(sb).toBeGreaterThanOrEqual(sa);
    expect(sc).toBeGreaterThanOrEqual(sb);
    expect(rb.start).toBeGreaterThanOrEqual(endOf(ra) - 1);
    expect(rc.start).toBeGreaterThanOrEqual(endOf(rb) - 1);
  });

  it('starts at once after a task that already ended', async () => {
    const a = launcher.launch({ argv: ['/bin/true'] });
    const ra = await a.result;
    const b = launcher.launch({ argv: ['sh', '-c', 'exit 4'] }, { after: a });
    const rb = await b.result;
    expect(rb.status).toEqual({ kind: 'exit', code: 4 });
    expect(rb.start).toBeGreaterThanOrEqual(endOf(ra) - 1);
  });

  it('starts after a predecessor that failed to launch, and after one of another launcher', async () => {
    const a = launcher.launch({ argv: ['no-such-program-xyz'] });
    const b = launcher.launch({ argv: ['sh', '-c', 'exit 5'] }, { after: a });
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra.status).toMatchObject({ kind: 'launch-failure', stage: 'exec' });
    expect(rb.status).toEqual({ kind: 'exit', code: 5 });
    expect(rb.start).toBeGreaterThanOrEqual(ra.start - 1);

    const other = createLauncher({ kind: kind === 'native' ? 'node' : 'auto' });
    try {
      const x = other.launch({ argv: ['sh', '-c', 'sleep 0.1; date +%s%N > x3'], cwd: dir });
      const y = launcher.launch({ argv: ['sh', '-c', 'date +%s%N > y3'], cwd: dir }, { after: x });
      const [rx, ry] = await Promise.all([x.result, y.result]);
      expect(ry.start).toBeGreaterThanOrEqual(endOf(rx) - 1);
      expect(await stamp(join(dir, 'y3'))).toBeGreaterThanOrEqual(await stamp(join(dir, 'x3')));
    } finally {
      await other.close();
    }
  });

  it('cancels a successor that has not started: it never runs', async () => {
    const a = launcher.launch({ argv: ['sh', '-c', 'sleep 0.3'] });
    const b = launcher.launch({ argv: ['sh', '-c', 'touch b4'], cwd: dir }, { after: a });
    // c waits for b: b's cancellation ends b, so c starts (it does not wait for a any more)
    const c = launcher.launch({ argv: ['sh', '-c', 'touch c4'], cwd: dir }, { after: b });
    b.signal('SIGTERM');
    await expect(b.result).rejects.toBeInstanceOf(LaunchCancelledError);
    await expect(b.result).rejects.toMatchObject({ name: 'LaunchCancelledError' });
    const rc = await c.result;
    const ra = await a.result;
    expect(ra.status).toEqual({ kind: 'exit', code: 0 });
    expect(rc.status).toEqual({ kind: 'exit', code: 0 });
    expect(rc.start).toBeLessThan(endOf(ra));
    expect(existsSync(join(dir, 'b4'))).toBe(false);
  });

  it('a signal to the predecessor ends it; the successor then starts', async () => {
    const a = launcher.launch({ argv: ['sh', '-c', 'touch a5; exec sleep 30'], cwd: dir });
    const b = launcher.launch({ argv: ['sh', '-c', 'date +%s%N > b5'], cwd: dir }, { after: a });
    await waitForFile(join(dir, 'a5'));
    a.signal('SIGTERM');
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra.status).toMatchObject({ kind: 'signal', signal: 15 });
    expect(rb.status).toEqual({ kind: 'exit', code: 0 });
    expect(rb.start).toBeGreaterThanOrEqual(endOf(ra) - 1);
    expect(existsSync(join(dir, 'b5'))).toBe(true);
  });

  it('close() rejects the successors still waiting with LaunchCancelledError', async () => {
    const l = createLauncher({ kind });
    const a = l.launch({ argv: ['sh', '-c', 'touch a6; exec sleep 30'], cwd: dir });
    const b = l.launch({ argv: ['sh', '-c', 'touch b6'], cwd: dir }, { after: a });
    const c = l.launch({ argv: ['sh', '-c', 'touch c6'], cwd: dir }, { after: b });
    const ra = expect(a.result).rejects.toThrow(/closed/);
    const rb = expect(b.result).rejects.toBeInstanceOf(LaunchCancelledError);
    const rc = expect(c.result).rejects.toBeInstanceOf(LaunchCancelledError);
    await waitForFile(join(dir, 'a6'));
    await l.close();
    await Promise.all([ra, rb, rc]);
    expect(existsSync(join(dir, 'b6'))).toBe(false);
    expect(existsSync(join(dir, 'c6'))).toBe(false);
  });

  it('keeps lanes busy with one successor chained ahead', async () => {
    const total = 200;
    let next = 0;
    let done = 0;
    const take = (after?: LaunchHandle): LaunchHandle | null => {
      if (next >= total) return null;
      next++;
      return launcher.launch({ argv: ['/bin/true'] }, { after });
    };
    const lane = async () => {
      let cur = take();
      while (cur) {
        const succ = take(cur);
        const r = await cur.result;
        expect(r.status).toEqual({ kind: 'exit', code: 0 });
        done++;
        cur = succ;
      }
    };
    await Promise.all([lane(), lane()]);
    expect(done).toBe(total);
  });
});

describe.runIf(built)('native launcher: results held back while a lane stays busy', () => {
  /** epoch ms at which a launch's result reached JS */
  const arrival = (h: LaunchHandle) => h.result.then((r) => ({ r, at: Date.now() }));

  it('holds the result of a task whose successor started until that successor ends', async () => {
    const l = createLauncher({ kind: 'native', resultHoldMs: 2000 });
    try {
      const a = l.launch({ argv: ['/bin/true'] });
      const b = l.launch({ argv: ['sleep', '0.3'] }, { after: a });
      const [ra, rb] = await Promise.all([arrival(a), arrival(b)]);
      // A ended at once, but its result came with B's (B left the lane idle: never held)
      expect(ra.at - endOf(ra.r)).toBeGreaterThan(200);
      expect(Math.abs(ra.at - rb.at)).toBeLessThan(50);
      expect(rb.at - endOf(rb.r)).toBeLessThan(200);
    } finally {
      await l.close();
    }
  });

  it('holds no longer than resultHoldMs', async () => {
    const l = createLauncher({ kind: 'native', resultHoldMs: 100 });
    try {
      const a = l.launch({ argv: ['/bin/true'] });
      const b = l.launch({ argv: ['sleep', '1'] }, { after: a });
      const ra = await arrival(a);
      const late = ra.at - endOf(ra.r);
      expect(late).toBeGreaterThan(60);
      expect(late).toBeLessThan(600);
      expect((await b.result).status).toEqual({ kind: 'exit', code: 0 });
    } finally {
      await l.close();
    }
  });

  it('never holds a result that leaves the lane idle, nor a launch failure', async () => {
    const l = createLauncher({ kind: 'native', resultHoldMs: 5000 });
    try {
      const t0 = Date.now();
      const single = await l.launch({ argv: ['/bin/true'] }).result;
      expect(single.status).toEqual({ kind: 'exit', code: 0 });
      const a = l.launch({ argv: ['/no/such/program'] });
      const b = l.launch({ argv: ['/bin/true'] }, { after: a });
      expect((await a.result).status.kind).toBe('launch-failure');
      expect((await b.result).status).toEqual({ kind: 'exit', code: 0 });
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await l.close();
    }
  });

  it('does not hold results by default', async () => {
    const l = createLauncher({ kind: 'native' });
    try {
      const a = l.launch({ argv: ['/bin/true'] });
      const b = l.launch({ argv: ['sleep', '0.5'] }, { after: a });
      const ra = await arrival(a);
      expect(ra.at - endOf(ra.r)).toBeLessThan(300);
      await b.result;
    } finally {
      await l.close();
    }
  });
});
