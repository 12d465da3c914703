import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DagLock } from '../src/dag-lock.js';
import { UserError } from '../src/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pt-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DagLock', () => {
  it('takes the lock, refuses a second holder while the first lives, and releases', () => {
    const dag = path.join(dir, 'x.dag');
    const lock = DagLock.acquire(dag);
    expect(readFileSync(`${dag}.lock`, 'utf8')).toMatch(
      new RegExp(`^${process.pid} ${os.hostname()}( \\d+)?\n$`),
    );
    expect(() => DagLock.acquire(dag)).toThrow(UserError);
    expect(() => DagLock.acquire(dag)).toThrow(/already locked by another process \(pid \d+/);
    lock.release();
    expect(existsSync(`${dag}.lock`)).toBe(false);
    DagLock.acquire(dag).release();
  });

  it('takes over a lock whose process is gone, or a zombie', async () => {
    const dag = path.join(dir, 'x.dag');
    const child = spawn('/bin/true');
    await new Promise((r) => child.on('exit', r));
    writeFileSync(`${dag}.lock`, `${child.pid} ${os.hostname()}\n`);
    DagLock.acquire(dag).release();
    // A zombie: a child that exited and that nobody reaped yet (sh exec's into sleep after it).
    const parent = spawn('/bin/sh', ['-c', '/bin/true & exec sleep 5']);
    await new Promise((r) => setTimeout(r, 300));
    const zombie = Number(
      readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/)[0],
    );
    expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
    writeFileSync(`${dag}.lock`, `${zombie} ${os.hostname()}\n`);
    DagLock.acquire(dag).release();
    parent.kill('SIGKILL');
  });
});
