import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'packages/cli/bin/pegasus-ts.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `pegasus-ts ARGS` as a real process. */
export function start(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): {
  child: ChildProcess;
  done: Promise<Run>;
  stderrSoFar: () => string;
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

/** Runs `pegasus-ts ARGS` to the end. */
export function pt(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return start(args, opts).done;
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(prefix = 'pt-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves once `check()` is true (polling every 20 ms), or rejects after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Asserts text shows no JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)/.test(text) || /\n\s+at .+:\d+:\d+/.test(text);
}

/**
 * Makes the machine slow on purpose: one busy-looping process per CPU, each in its own process
 * group. `stop()` kills them (call it in a finally or afterEach); each also ends by itself after
 * `maxMs` or as soon as its parent (this test process) is gone, so none outlives a crashed test.
 */
export function cpuHog(maxMs = 300_000): { pids: number[]; stop: () => void } {
  const loop = `const end = Date.now() + ${maxMs}; const parent = process.ppid;
    for (let i = 0; ; i++) if ((i & 0xfffff) === 0 && (Date.now() > end || process.ppid !== parent)) process.exit(0);`;
  const children = Array.from({ length: os.availableParallelism() }, () =>
    spawn(process.execPath, ['-e', loop], { detached: true, stdio: 'ignore' }),
  );
  for (const c of children) c.unref();
  const stop = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.off('exit', stop);
  };
  process.on('exit', stop);
  return { pids: children.map((c) => c.pid as number), stop };
}
