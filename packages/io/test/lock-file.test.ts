import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holderAlive, LockFile, parseLockHolder, readLockHolder, selfHolderText } from '../src/lock-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'io-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const p = spawnSync('true');
  if (!p.pid) throw new Error('cannot start true');
  return p.pid;
}

/** A running `sleep` and its lock file text (pid host start). */
function liveHolder(): { child: ChildProcess; text: string } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return { child, text: `${child.pid} ${hostname()} ${start}\n` };
}

describe('LockFile', () => {
  it('is taken once, names its holder, and is free again after release', () => {
    const path = join(dir, 'x.lock');
    const lock = LockFile.tryAcquire(path);
    expect(lock).toBeInstanceOf(LockFile);
    expect(readFileSync(path, 'utf8')).toBe(selfHolderText());
    expect(readLockHolder(path)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(LockFile.tryAcquire(path)).toEqual({ holder: readLockHolder(path) });
    (lock as LockFile).release();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    const again = LockFile.tryAcquire(path) as LockFile;
    expect(again).toBeInstanceOf(LockFile);
    again.release();
  });

  it('takes over a lock whose process is gone', () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, `${deadPid()} ${hostname()}\n`);
    const lock = LockFile.tryAcquire(path) as LockFile;
    expect(lock).toBeInstanceOf(LockFile);
    expect(readLockHolder(path)?.pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, `${process.pid} ${hostname()} 1\n`);
    expect(holderAlive(parseLockHolder(readFileSync(path, 'utf8'))!)).toBe(false);
    expect(LockFile.tryAcquire(path)).toBeInstanceOf(LockFile);
  });

  it('never takes a live holder’s lock, however old it is', () => {
    const path = join(dir, 'x.lock');
    const { child, text } = liveHolder();
    try {
      writeFileSync(path, text);
      utimesSync(path, new Date('2000-01-01'), new Date('2000-01-01'));
      expect(LockFile.tryAcquire(path)).toEqual({ holder: parseLockHolder(text) });
      expect(readFileSync(path, 'utf8')).toBe(text);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('leaves a lock held on another host alone', () => {
    const path = join(dir, 'x.lock');
    writeFileSync(path, `${deadPid()} not-${hostname()}\n`);
    expect(LockFile.tryAcquire(path)).toHaveProperty('holder');
  });

  it('takes over past a breaker left by a starter that died while breaking', () => {
    const path = join(dir, 'x.lock');
    const text = `${deadPid()} ${hostname()}\n`;
    writeFileSync(path, text);
    const key = createHash('sha1')
      .update(`${statSync(path).ino}\n${text}`)
      .digest('hex')
      .slice(0, 16);
    writeFileSync(`${path}.break-${key}`, `${deadPid()} ${hostname()}\n`);
    const lock = LockFile.tryAcquire(path) as LockFile;
    expect(lock).toBeInstanceOf(LockFile);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('acquire waits for the holder to release', async () => {
    const path = join(dir, 'x.lock');
    const first = LockFile.tryAcquire(path) as LockFile;
    setTimeout(() => first.release(), 200);
    const second = await LockFile.acquire(path, 30_000, 10);
    expect(readLockHolder(path)?.pid).toBe(process.pid);
    second.release();
  });

  it('acquire gives up after its timeout, naming the holder', async () => {
    const path = join(dir, 'x.lock');
    LockFile.tryAcquire(path);
    await expect(LockFile.acquire(path, 50, 10)).rejects.toThrow(
      new RegExp(`x\\.lock: still held by pid ${process.pid} on `),
    );
  });
});

describe('LockFile race', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const racer = fileURLToPath(new URL('./lock-racer.mjs', import.meta.url));

  /** Starts n processes that all try the lock at once (when `go` appears); their outputs. */
  async function race(path: string, n: number): Promise<string[]> {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm exec tsc -b\` first`);
    const go = join(dir, 'go');
    const stop = join(dir, 'stop');
    rmSync(go, { force: true });
    rmSync(stop, { force: true });
    const outs: string[] = new Array(n).fill('');
    const answered = () => outs.every((o) => o.split('\n').length > 2);
    let ready: () => void;
    const allReady = new Promise<void>((r) => {
      ready = r;
    });
    const done = Array.from({ length: n }, (_, i) => {
      const p = spawn(process.execPath, [racer, dist, path, go, stop], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      p.stdout.on('data', (d) => {
        outs[i] += String(d);
        if (outs.every((o) => o.startsWith('ready\n'))) ready();
        // once every racer has answered, the winner may let go
        if (answered()) writeFileSync(stop, '');
      });
      return new Promise<number | null>((resolve) => p.on('exit', resolve));
    });
    // every racer loaded and waiting for `go`: release them together
    await allReady;
    writeFileSync(go, '');
    const codes = await Promise.all(done);
    expect(codes.every((c) => c === 0)).toBe(true);
    return outs.map((o) => o.slice('ready\n'.length).trim());
  }

  it('of many starters that all see a dead holder, exactly one wins', async () => {
    const path = join(dir, 'x.lock');
    for (let round = 0; round < 2; round++) {
      writeFileSync(path, `${deadPid()} ${hostname()}\n`);
      const outs = await race(path, 12);
      const winners = outs.filter((o) => o === 'won');
      expect(winners).toHaveLength(1);
      expect(new Set(outs.filter((o) => o !== 'won')).size).toBe(1); // every loser names the same holder
      expect(outs.filter((o) => o !== 'won').every((o) => o.startsWith('lost '))).toBe(true);
      expect(existsSync(path)).toBe(false); // the winner released it
      expect(readdirSync(dir).filter((f) => f.startsWith('x.lock'))).toEqual([]);
    }
  }, 120_000);

  it('of many starters with no lock file, exactly one wins', async () => {
    const outs = await race(join(dir, 'y.lock'), 12);
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
  }, 120_000);
});
