import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLauncher, type Launcher } from '../src/launcher.js';
import { tempDir, waitForFile } from './helpers.js';

const kinds = ['native', 'node'] as const;

describe.each(kinds)('%s launcher', (kind) => {
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

  it('is the kind asked for and says whether rusage is available', () => {
    expect(launcher.kind).toBe(kind);
    expect(launcher.rusageAvailable).toBe(kind === 'native');
  });

  it('tells exit code, signal and launch failure apart', async () => {
    const [ok, code, sig, missing] = await Promise.all([
      launcher.launch({ argv: ['/bin/true'] }).result,
      launcher.launch({ argv: ['sh', '-c', 'exit 3'] }).result,
      launcher.launch({ argv: ['sh', '-c', 'kill -9 $$'] }).result,
      launcher.launch({ argv: ['no-such-program-xyz'] }).result,
    ]);
    expect(ok.status).toEqual({ kind: 'exit', code: 0 });
    expect(ok.raw).toBe(0);
    expect(ok.pid).toBeGreaterThan(0);
    expect(code.status).toEqual({ kind: 'exit', code: 3 });
    expect(code.raw).toBe(3 << 8);
    expect(sig.status).toMatchObject({ kind: 'signal', signal: 9, name: 'SIGKILL' });
    expect(sig.raw).toBe(9);
    expect(missing.raw).toBe(-1);
    expect(missing.status).toMatchObject({ kind: 'launch-failure', errno: 2, stage: 'exec' });
    expect(missing.pid).toBe(0);
    if (kind === 'native') {
      expect(ok.usage).not.toBeNull();
      expect(ok.usage?.maxrss).toBeGreaterThan(0);
    } else {
      expect(ok.usage).toBeNull();
    }
  });

  it('reports a stdio failure and a bad cwd as launch failures with their stage', async () => {
    const [noStdin, noCwd] = await Promise.all([
      launcher.launch({ argv: ['/bin/true'], stdin: join(dir, 'missing-input') }).result,
      launcher.launch({ argv: ['/bin/true'], cwd: join(dir, 'missing-dir') }).result,
    ]);
    expect(noStdin.status).toMatchObject({ kind: 'launch-failure', errno: 2, stage: 'stdio' });
    expect(noCwd.status).toMatchObject({ kind: 'launch-failure', errno: 2, stage: 'cwd' });
  });

  it('resolves the executable like PMC: ./name in cwd before PATH', async () => {
    const script = join(dir, 'true');
    await writeFile(script, '#!/bin/sh\necho local\n', { mode: 0o755 });
    const r = await launcher.launch({ argv: ['true'], cwd: dir, stdout: { capture: 100 } }).result;
    expect(r.executable).toBe(script);
    expect(r.stdout?.data.toString()).toBe('local\n');
  });

  it('sends TERM at the timeout, then KILL after the grace period', async () => {
    const r = await launcher.launch({
      argv: ['sh', '-c', 'trap "echo got-term" TERM; while :; do sleep 0.05; done'],
      stdout: { capture: 1000 },
      timeout: 0.3,
      killGrace: 0.4,
    }).result;
    expect(r.timedOut).toBe(true);
    expect(r.status).toMatchObject({ kind: 'signal', signal: 9 });
    expect(r.stdout?.data.toString()).toContain('got-term');
    expect(r.duration).toBeGreaterThanOrEqual(0.6);
  });

  it('forwards a signal to the task process group', async () => {
    const ready = join(dir, `ready-${kind}`);
    const h = launcher.launch({
      argv: ['sh', '-c', `trap "echo got-usr1; exit 7" USR1; touch ${ready}; while :; do sleep 0.05; done`],
      stdout: { capture: 1000 },
    });
    await waitForFile(ready);
    h.signal('SIGUSR1');
    const r = await h.result;
    expect(r.status).toEqual({ kind: 'exit', code: 7 });
    expect(r.stdout?.data.toString()).toBe('got-usr1\n');
  });

  it('keeps the tail of a captured stream and reports its size', async () => {
    const r = await launcher.launch({
      argv: ['sh', '-c', 'i=0; while [ $i -lt 1000 ]; do echo line$i; i=$((i+1)); done; echo to-stderr >&2'],
      stdout: { capture: 16 },
      stderr: { capture: 1000 },
    }).result;
    expect(r.stdout?.truncated).toBe(true);
    expect(r.stdout?.data.toString()).toBe('\nline998\nline999\n'.slice(-16));
    expect(r.stdout?.size).toBe(Array.from({ length: 1000 }, (_, i) => `line${i}\n`).join('').length);
    expect(r.stderr).toMatchObject({ size: 10, truncated: false });
    expect(r.stderr?.data.toString()).toBe('to-stderr\n');
  });

  it('costs nothing for empty output', async () => {
    const r = await launcher.launch({ argv: ['/bin/true'], stdout: { capture: 100 } }).result;
    expect(r.stdout).toEqual({ data: Buffer.alloc(0), size: 0, truncated: false });
  });

  it('reads stdin from a file and writes stdout to a file (truncate or append)', async () => {
    const input = join(dir, `in-${kind}`);
    const out = join(dir, `out-${kind}`);
    await writeFile(input, 'hello from a file\n');
    await writeFile(out, 'old contents\n');
    const r1 = await launcher.launch({ argv: ['cat'], stdin: input, stdout: { file: out } }).result;
    expect(r1.status).toEqual({ kind: 'exit', code: 0 });
    expect(await readFile(out, 'utf8')).toBe('hello from a file\n');
    await launcher.launch({ argv: ['cat'], stdin: input, stdout: { file: out, append: true } }).result;
    expect(await readFile(out, 'utf8')).toBe('hello from a file\nhello from a file\n');
  });

  it('adds environment variables on top of the base env, or clears it', async () => {
    const r = await launcher.launch({
      argv: ['sh', '-c', 'echo "$KS_A|$KS_B|$(test -n "$HOME" && echo home)"'],
      env: { KS_A: 'one', KS_B: 'two words' },
      stdout: { capture: 100 },
    }).result;
    expect(r.stdout?.data.toString()).toBe('one|two words|home\n');
    const c = await launcher.launch({
      argv: ['/bin/sh', '-c', 'echo "$KS_A|$(test -z "$HOME" && echo nohome)"'],
      env: { KS_A: 'x' },
      clearEnv: true,
      stdout: { capture: 100 },
    }).result;
    expect(c.stdout?.data.toString()).toBe('x|nohome\n');
  });

  it('runs in the given cwd', async () => {
    const r = await launcher.launch({ argv: ['pwd'], cwd: dir, stdout: { capture: 1000 } }).result;
    expect(r.stdout?.data.toString()).toBe(`${dir}\n`);
  });

  it('captures an extra fd named by an env var', async () => {
    const r = await launcher.launch({
      argv: ['sh', '-c', 'echo "fd=$OUTFD"; echo forwarded >&$OUTFD'],
      extraCaptures: [{ fd: 9, envVar: 'OUTFD', maxBytes: 100 }],
      stdout: { capture: 100 },
    }).result;
    expect(r.stdout?.data.toString()).toBe('fd=9\n');
    expect(r.captures?.[0]?.data.toString()).toBe('forwarded\n');
  });

  it('launches 200 tasks at once', async () => {
    const rs = await Promise.all(
      Array.from({ length: 200 }, () => launcher.launch({ argv: ['/bin/true'] }).result),
    );
    expect(rs.filter((r) => r.status.kind === 'exit' && r.status.code === 0)).toHaveLength(200);
    expect(new Set(rs.map((r) => r.pid)).size).toBe(200);
  });
});
