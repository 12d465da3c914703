import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLauncher, type Launcher } from '../src/launcher.js';
import { isAlive, tempDir, waitForFile, waitGone } from './helpers.js';

const nativeIndex = fileURLToPath(new URL('../../../native/launch/index.js', import.meta.url));
const probe = createLauncher();
const built = probe.kind === 'native';
await probe.close();
if (!built) console.warn('native/launch is not built: the native launcher tests are skipped');

describe.skipIf(!built)('native launcher', () => {
  let launcher: Launcher;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    launcher = createLauncher({ kind: 'native' });
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(async () => {
    await launcher.close();
    await cleanup();
  });

  it('reuses capture files only when nothing can still write to them', async () => {
    const cap = { capture: 1 << 20 };
    // Sequential tasks: each sees only its own output, whatever the one before wrote.
    for (const [text, expected] of [
      ['aaaaaaaa', 'aaaaaaaa'],
      ['b', 'b'],
      ['', ''],
    ]) {
      const r = await launcher.launch({
        argv: ['/bin/sh', '-c', `printf '${text}'`],
        stdout: cap,
        stderr: cap,
      }).result;
      expect(r.stdout?.data.toString()).toBe(expected);
      expect(r.stdout?.size).toBe(expected.length);
    }
    // A task that leaves a writer behind: its capture must not be handed to the next task.
    const a = await launcher.launch({
      argv: ['/bin/sh', '-c', '(sleep 0.3; echo late) & echo early'],
      stdout: cap,
      stderr: cap,
    }).result;
    expect(a.stdout?.data.toString()).toBe('early\n');
    const b = await launcher.launch({ argv: ['/bin/sleep', '0.6'], stdout: cap, stderr: cap }).result;
    const c = await launcher.launch({ argv: ['/bin/true'], stdout: cap, stderr: cap }).result;
    for (const r of [b, c]) {
      expect(r.stdout?.size).toBe(0);
      expect(r.stderr?.size).toBe(0);
    }
  });

  it('reports the maxrss of the task, not of the (big) Node process', async () => {
    const ballast = Buffer.alloc(120 * 1024 * 1024, 1); // touched: resident
    expect(process.memoryUsage().rss).toBeGreaterThanOrEqual(100 * 1024 * 1024);
    const small = await launcher.launch({ argv: ['/bin/true'] }).result;
    const big = await launcher.launch({
      argv: ['python3', '-c', 'b = bytearray(100 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1'],
    }).result;
    expect(ballast[ballast.length - 1]).toBe(1);
    expect(small.usage?.maxrss).toBeLessThan(10 * 1024);
    expect(big.status).toEqual({ kind: 'exit', code: 0 });
    expect(big.usage?.maxrss).toBeGreaterThan(95 * 1024);
    expect(big.usage?.maxrss).toBeLessThan(130 * 1024);
  });

  it('applies a memory limit (fork path) and CPU affinity', async () => {
    const limited = await launcher.launch({
      argv: ['python3', '-c', 'b = bytearray(400 * 1024 * 1024)'],
      memoryLimitMb: 200,
      stderr: { capture: 4096 },
    }).result;
    expect(limited.status).toEqual({ kind: 'exit', code: 1 });
    expect(limited.stderr?.data.toString()).toContain('MemoryError');
    const pinned = await launcher.launch({
      argv: ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'],
      cpuAffinity: [0],
      stdout: { capture: 200 },
    }).result;
    expect(pinned.stdout?.data.toString()).toMatch(/Cpus_allowed_list:\s+0\n/);
    const missing = await launcher.launch({ argv: ['no-such-program-xyz'], memoryLimitMb: 100 }).result;
    expect(missing.status).toMatchObject({ kind: 'launch-failure', errno: 2, stage: 'exec' });
  });

  it('rejects a launch with a NUL byte in an argument and keeps the channel intact', async () => {
    await expect(launcher.launch({ argv: ['/bin/echo', 'a\0b'] }).result).rejects.toThrow(/NUL byte/);
    const ok = await launcher.launch({ argv: ['sh', '-c', 'exit 6'] }).result;
    expect(ok.status).toEqual({ kind: 'exit', code: 6 });
  });

  it('rejects pending launches clearly when the spawner is killed', async () => {
    const l = createLauncher({ kind: 'native' });
    const pidFile = join(dir, 'orphan.pid');
    const h = l.launch({ argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`] });
    await waitForFile(pidFile);
    const spawnerPid = (l as unknown as { spawnerPid: number }).spawnerPid;
    process.kill(spawnerPid, 'SIGKILL');
    await expect(h.result).rejects.toThrow(/pegasus-ts-spawner \(pid \d+\) was killed by SIGKILL/);
    await expect(l.launch({ argv: ['/bin/true'] }).result).rejects.toThrow(/killed by SIGKILL/);
    const orphan = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(-orphan, 'SIGKILL');
    await l.close();
  });

  it('kills running tasks when closed', async () => {
    const l = createLauncher({ kind: 'native' });
    const pidFile = join(dir, 'closed.pid');
    const h = l.launch({ argv: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`] });
    await waitForFile(pidFile);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await l.close();
    await expect(h.result).rejects.toThrow(/closed/);
    expect(await waitGone(pid, 2000)).toBe(true);
  });

  it('lets a Node process exit cleanly without close(), and close() keeps it alive until done', async () => {
    const script = `
      import { loadLaunchAddon, RequestEncoder, ResultDecoder, STDIO_NULL } from ${JSON.stringify(nativeIndex)};
      const a = loadLaunchAddon();
      const dec = new ResultDecoder();
      const sp = new a.Spawner(a.spawnerPath, (chunk) => {
        if (chunk && dec.push(chunk).length) { sp.unref(); console.log('result'); }
      });
      sp.ref();
      const e = new RequestEncoder();
      const io = { kind: STDIO_NULL };
      e.launch({ id: 1, argv: ['/bin/true'], cwd: '/', env: [], stdio: [io, io, io] });
      sp.write(e.take());
    `;
    for (let i = 0; i < 5; i++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const code = await new Promise((r) => child.on('exit', (c, s) => r(s ?? c)));
      expect(code).toBe(0);
      expect(out).toBe('result\n');
    }
  });

  it('kills the tasks when the Node process dies', async () => {
    const pidFile = join(dir, 'task.pid');
    const script = `
      import { loadLaunchAddon, RequestEncoder, STDIO_NULL } from ${JSON.stringify(nativeIndex)};
      const a = loadLaunchAddon();
      const sp = new a.Spawner(a.spawnerPath, () => {});
      sp.ref();
      const e = new RequestEncoder();
      const io = { kind: STDIO_NULL };
      e.launch({ id: 1, argv: ['sh', '-c', 'echo $$ > ${pidFile}; exec sleep 100'], cwd: '/', env: [], stdio: [io, io, io] });
      sp.write(e.take());
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    await waitForFile(pidFile);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(isAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitGone(pid, 2000)).toBe(true);
  });
});
