import { type ChildProcess, type IOType, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Captured,
  LaunchCancelledError,
  type Launcher,
  type LauncherOptions,
  type LaunchHandle,
  type LaunchOptions,
  type LaunchResult,
  type LaunchSpec,
  type StdioTarget,
} from '../launcher.js';
import { resolveExecutable } from './resolve-executable.js';
import { checkSpec, envSnapshot, specCwd } from './spec-defaults.js';
import {
  decodeWaitStatus,
  encodeWaitStatus,
  errnoOfCode,
  launchFailure,
  signalNumber,
} from './wait-status.js';

type StdioItem = IOType | number;

interface Cap {
  fd: number;
  max: number;
}

function readCapture(c: Cap): Captured {
  try {
    const size = fstatSync(c.fd).size;
    const n = Math.min(size, c.max);
    const data = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(c.fd, data, got, n - got, size - n + got);
      if (r <= 0) break;
      got += r;
    }
    return { data: got < n ? data.subarray(0, got) : data, size, truncated: size > n };
  } finally {
    closeSync(c.fd);
  }
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The fallback: child_process.spawn, each task in its own process group (detached). Same
 * semantics as the native launcher except: no rusage (usage is null), memoryLimitMb and
 * cpuAffinity are ignored, and tasks outlive a Node process that dies.
 */
class NodeLauncher implements Launcher {
  readonly kind = 'node' as const;
  readonly rusageAvailable = false;
  private readonly baseEnv: Record<string, string>;
  private readonly spoolDir: string;
  private readonly running = new Set<ChildProcess>();
  private closing = false;
  private closeWaiters: (() => void)[] = [];
  private seq = 0;
  /** cancel functions of the launches waiting for their predecessor */
  private readonly waiting = new Set<() => void>();

  constructor(options: LauncherOptions) {
    this.baseEnv = options.baseEnv ?? envSnapshot(process.env);
    this.spoolDir = options.spoolDir ?? tmpdir();
  }

  launch(spec: LaunchSpec, options?: LaunchOptions): LaunchHandle {
    checkSpec(spec);
    const after = options?.after;
    if (after === undefined || this.closing) return this.start(spec);
    // wait for the predecessor's result to settle (launch failure and cancellation included)
    let started: LaunchHandle | null = null;
    let done = false;
    let resolveResult!: (r: LaunchResult) => void;
    let rejectResult!: (e: Error) => void;
    const result = new Promise<LaunchResult>((res, rej) => {
      resolveResult = res;
      rejectResult = rej;
    });
    const cancel = () => {
      if (done) return;
      done = true;
      this.waiting.delete(cancel);
      rejectResult(new LaunchCancelledError('the task was cancelled before it started'));
    };
    const go = () => {
      if (done) return;
      done = true;
      this.waiting.delete(cancel);
      started = this.start(spec);
      started.result.then(resolveResult, rejectResult);
    };
    this.waiting.add(cancel);
    after.result.then(go, go);
    return {
      result,
      signal: (sig) => {
        if (started) started.signal(sig);
        else cancel();
      },
    };
  }

  private start(spec: LaunchSpec): LaunchHandle {
    let child: ChildProcess | null = null;
    const result = new Promise<LaunchResult>((resolvePromise, reject) => {
      if (this.closing) throw new Error('the launcher is closed');
      const cwd = specCwd(spec);
      const env: Record<string, string> = spec.clearEnv ? { ...spec.env } : { ...this.baseEnv, ...spec.env };
      const opened: number[] = [];
      const caps: (Cap | null)[] = [null, null];
      const extra: Cap[] = [];
      const start = now();
      const fail = (errno: number, stage: 'stdio' | 'capture' | 'exec' | 'cwd' | 'spawn', what: string) => {
        for (const fd of opened) closeSync(fd);
        resolvePromise({
          pid: 0,
          start,
          duration: 0,
          raw: -1,
          status: launchFailure(errno, stage, what),
          timedOut: false,
          usage: null,
          executable: spec.argv[0],
        });
      };
      const capFile = (): number => {
        const p = join(this.spoolDir, `.pegasus-ts-capture-${process.pid}-${this.seq++}`);
        const fd = openSync(p, 'w+', 0o600);
        unlinkSync(p);
        opened.push(fd);
        return fd;
      };
      const target = (t: StdioTarget | undefined, i: 1 | 2): StdioItem => {
        if (t === undefined || t === 'null') return 'ignore';
        if (t === 'inherit') return 'inherit';
        if ('capture' in t) {
          const fd = capFile();
          caps[i - 1] = { fd, max: t.capture };
          return fd;
        }
        const fd = openSync(resolve(cwd, t.file), t.append ? 'a' : 'w');
        opened.push(fd);
        return fd;
      };
      let stdio: StdioItem[];
      try {
        let stdin: StdioItem = 'ignore';
        if (spec.stdin === '-') stdin = 'inherit';
        else if (spec.stdin) {
          stdin = openSync(resolve(cwd, spec.stdin), 'r');
          opened.push(stdin);
        }
        stdio = [stdin, target(spec.stdout, 1), target(spec.stderr, 2)];
        for (const x of spec.extraCaptures ?? []) {
          const fd = capFile();
          extra.push({ fd, max: x.maxBytes });
          while (stdio.length < x.fd) stdio.push('ignore');
          stdio[x.fd] = fd;
          env[x.envVar] = String(x.fd);
        }
      } catch (e) {
        fail(errnoOfCode((e as NodeJS.ErrnoException).code) || 5, 'stdio', '');
        return;
      }
      const exe = resolveExecutable(spec.argv[0], cwd, env.PATH ?? this.baseEnv.PATH);
      const onSpawnError = (e: NodeJS.ErrnoException) => {
        let stage: 'exec' | 'cwd' = 'exec';
        try {
          if (!statSync(cwd).isDirectory()) stage = 'cwd';
        } catch {
          stage = 'cwd';
        }
        fail(errnoOfCode(e.code) || 5, stage, stage === 'cwd' ? cwd : exe);
      };
      try {
        child = spawn(exe, spec.argv.slice(1), { argv0: spec.argv[0], cwd, env, stdio, detached: true });
      } catch (e) {
        onSpawnError(e as NodeJS.ErrnoException);
        return;
      }
      const c: ChildProcess = child;
      if (c.pid === undefined) {
        c.once('error', onSpawnError);
        return;
      }
      const pid = c.pid;
      this.running.add(c);
      for (const fd of opened)
        if (!caps.some((x) => x?.fd === fd) && !extra.some((x) => x.fd === fd)) closeSync(fd);
      let timedOut = false;
      let timer: NodeJS.Timeout | null = null;
      if (spec.timeout && spec.timeout > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(pid, 'SIGTERM');
          timer = setTimeout(() => killGroup(pid, 'SIGKILL'), (spec.killGrace ?? 5) * 1000);
        }, spec.timeout * 1000);
      }
      c.once('exit', (code, signal) => {
        const end = now();
        if (timer) clearTimeout(timer);
        this.running.delete(c);
        const out: LaunchResult = {
          pid,
          start,
          duration: (end - start) / 1000,
          raw: encodeWaitStatus(code, signal ? signalNumber(signal) : null),
          status: { kind: 'exit', code: 0 },
          timedOut,
          usage: null,
          executable: exe,
        };
        out.status = decodeWaitStatus(out.raw);
        if (caps[0]) out.stdout = readCapture(caps[0]);
        if (caps[1]) out.stderr = readCapture(caps[1]);
        if (extra.length) out.captures = extra.map(readCapture);
        if (this.closing) reject(new Error('the launcher was closed while the task ran'));
        else resolvePromise(out);
        if (this.closing && this.running.size === 0) for (const w of this.closeWaiters.splice(0)) w();
      });
    });
    return {
      result,
      signal: (sig) => {
        if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          killGroup(child.pid, signalNumber(sig));
        }
      },
    };
  }

  close(): Promise<void> {
    this.closing = true;
    for (const cancel of [...this.waiting]) cancel();
    if (this.running.size === 0) return Promise.resolve();
    for (const c of this.running) if (c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
    return new Promise((r) => this.closeWaiters.push(r));
  }
}

function killGroup(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

export function createNodeLauncher(options: LauncherOptions): Launcher {
  return new NodeLauncher(options);
}
