import {
  loadLaunchAddon,
  type NativeSpawner,
  RequestEncoder,
  ResultDecoder,
  STDIO_APPEND,
  STDIO_CAPTURE,
  STDIO_FILE,
  STDIO_INHERIT,
  STDIO_NULL,
  type WireResult,
  type WireStdio,
} from '@pegasus-ts/native-launch';
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
import { checkSpec, specCwd } from './spec-defaults.js';
import { decodeWaitStatus, launchFailure, signalDescription, signalNumber } from './wait-status.js';

/** One launch: its handle, and its pending state until the result comes back. */
class NativeTask implements LaunchHandle {
  /** 0 while it waits in JS for a predecessor of another launcher */
  id = 0;
  readonly result: Promise<LaunchResult>;
  resolve!: (r: LaunchResult) => void;
  reject!: (e: Error) => void;

  constructor(
    readonly owner: NativeLauncher,
    readonly spec: LaunchSpec,
  ) {
    this.result = new Promise<LaunchResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  signal(sig: NodeJS.Signals | number): void {
    this.owner.signalTask(this, sig);
  }
}

function cancelled(): LaunchCancelledError {
  return new LaunchCancelledError('the task was cancelled before it started');
}

function stdioWire(t: StdioTarget | undefined, dflt: WireStdio): WireStdio {
  if (t === undefined) return dflt;
  if (t === 'inherit') return { kind: STDIO_INHERIT };
  if (t === 'null') return { kind: STDIO_NULL };
  if ('capture' in t) return { kind: STDIO_CAPTURE, maxBytes: t.capture };
  return { kind: t.append ? STDIO_APPEND : STDIO_FILE, path: t.file };
}

const NULL_STDIO: WireStdio = { kind: STDIO_NULL };

class NativeLauncher implements Launcher {
  readonly kind = 'native' as const;
  readonly rusageAvailable = true;
  private readonly spawner: NativeSpawner;
  private readonly enc = new RequestEncoder();
  private readonly dec = new ResultDecoder();
  /** sent to the spawner, result not back yet */
  private readonly pending = new Map<number, NativeTask>();
  /** waiting in JS for a predecessor the spawner does not know (another launcher's handle) */
  private readonly waiting = new Set<NativeTask>();
  private nextId = 1;
  private flushQueued = false;
  private dead: Error | null = null;
  private closing = false;
  private readonly ended: Promise<void>;
  private endResolve!: () => void;

  constructor(
    Spawner: new (path: string, cb: (c: Buffer | null, s?: number, e?: number) => void) => NativeSpawner,
    path: string,
    options: LauncherOptions,
  ) {
    this.ended = new Promise((r) => {
      this.endResolve = r;
    });
    this.spawner = new Spawner(path, (chunk, status, errno) => this.onData(chunk, status ?? 0, errno ?? 0));
    this.enc.setup(options.spoolDir ?? '', options.baseEnv ?? null, options.resultHoldMs ?? 0);
    this.flush();
  }

  /** pid of the spawner process (tests kill it) */
  get spawnerPid(): number {
    return this.spawner.pid;
  }

  launch(spec: LaunchSpec, options?: LaunchOptions): LaunchHandle {
    checkSpec(spec);
    const task = new NativeTask(this, spec);
    if (this.dead || this.closing) {
      task.reject(this.dead ?? new Error('the launcher is closed'));
      return task;
    }
    const after = options?.after;
    if (after === undefined) this.send(task, 0);
    else if (after instanceof NativeTask && after.owner === this && after.id !== 0) {
      // still pending: the spawner chains it (or starts it at once if `after` just ended there)
      this.send(task, this.pending.get(after.id) === after ? after.id : 0);
    } else {
      this.waiting.add(task);
      const go = () => {
        if (!this.waiting.delete(task)) return; // cancelled or closed meanwhile
        this.send(task, 0);
      };
      after.result.then(go, go);
    }
    return task;
  }

  /** LaunchHandle.signal */
  signalTask(task: NativeTask, sig: NodeJS.Signals | number): void {
    if (this.waiting.delete(task)) {
      task.reject(cancelled());
      return;
    }
    if (this.pending.get(task.id) !== task || this.dead) return;
    // the spawner signals it if it runs, or cancels it if it still waits for its predecessor
    this.enc.signal(task.id, signalNumber(sig));
    this.scheduleFlush();
  }

  private send(task: NativeTask, after: number): void {
    if (this.dead || this.closing) {
      task.reject(this.dead ?? new Error('the launcher is closed'));
      return;
    }
    const spec = task.spec;
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) >>> 0 || 1;
    this.nextId = (id + 1) >>> 0 || 1;
    task.id = id;
    const env: string[] = [];
    if (spec.env) for (const k of Object.keys(spec.env)) env.push(`${k}=${spec.env[k]}`);
    try {
      this.encode(task, id, after, env);
    } catch (e) {
      task.reject(e instanceof Error ? e : new Error(String(e))); // e.g. a NUL byte in an argument
      return;
    }
    if (this.pending.size === 0) this.spawner.ref();
    this.pending.set(id, task);
    this.scheduleFlush();
  }

  private encode(task: NativeTask, id: number, after: number, env: string[]): void {
    const spec = task.spec;
    this.enc.launch({
      id,
      after,
      clearEnv: spec.clearEnv,
      timeout: spec.timeout,
      grace: spec.killGrace ?? 5,
      memoryMb: spec.memoryLimitMb ? Math.ceil(spec.memoryLimitMb) : 0,
      cpus: spec.cpuAffinity,
      argv: spec.argv,
      cwd: specCwd(spec),
      env,
      stdio: [
        spec.stdin === '-'
          ? { kind: STDIO_INHERIT }
          : spec.stdin
            ? { kind: STDIO_FILE, path: spec.stdin }
            : NULL_STDIO,
        stdioWire(spec.stdout, NULL_STDIO),
        stdioWire(spec.stderr, NULL_STDIO),
      ],
      extra: spec.extraCaptures,
    });
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // the spawner answers "cancelled" for the launches still waiting for a predecessor there
      for (const t of this.waiting) t.reject(cancelled());
      this.waiting.clear();
      if (!this.dead) this.spawner.ref(); // keep the loop alive until the spawner has ended
      this.flush();
      this.spawner.close();
    }
    return this.ended;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.enc.pending === 0 || this.dead) return;
    this.spawner.write(this.enc.take());
  }

  private onData(chunk: Buffer | null, status: number, errno: number): void {
    if (chunk === null) {
      this.onEnd(status, errno);
      return;
    }
    let results: WireResult[];
    try {
      results = this.dec.push(chunk);
    } catch (e) {
      this.failAll(e instanceof Error ? e : new Error(String(e)));
      this.spawner.close();
      return;
    }
    for (const r of results) {
      const p = this.pending.get(r.id);
      if (!p) continue;
      this.pending.delete(r.id);
      if (r.cancelled) p.reject(cancelled());
      else p.resolve(toLaunchResult(r, p.spec));
    }
    if (this.pending.size === 0 && !this.dead && !this.closing) this.spawner.unref();
  }

  private onEnd(status: number, errno: number): void {
    let why: string;
    if (this.closing) why = 'the launcher was closed while the task ran';
    else {
      const st = decodeWaitStatus(status);
      const how =
        st.kind === 'signal'
          ? `was killed by ${st.name} (${signalDescription(st.signal)})`
          : st.kind === 'exit'
            ? `exited with code ${st.code}`
            : 'ended';
      why = `pegasus-ts-spawner (pid ${this.spawner.pid}) ${how}${errno ? ` (read errno ${errno})` : ''}; the task's result is lost`;
    }
    this.failAll(new Error(why));
    this.endResolve();
  }

  private failAll(e: Error): void {
    this.dead ??= e;
    const all = [...this.pending.values(), ...this.waiting];
    this.pending.clear();
    this.waiting.clear();
    for (const p of all) p.reject(e);
  }
}

function toCaptured(c: { data: Buffer; size: number; truncated: boolean }): Captured {
  return { data: c.data, size: c.size, truncated: c.truncated };
}

function failureOf(r: WireResult, spec: LaunchSpec) {
  const stage = r.stage === 'none' ? 'spawn' : r.stage;
  const what =
    stage === 'cwd'
      ? specCwd(spec)
      : stage === 'stdio' || stage === 'capture' || stage === 'request'
        ? ''
        : r.execPath || spec.argv[0];
  return launchFailure(r.errno, stage, what);
}

function toLaunchResult(r: WireResult, spec: LaunchSpec): LaunchResult {
  const start = r.startSec * 1000 + r.startNsec / 1e6;
  const end = r.endSec * 1000 + r.endNsec / 1e6;
  const out: LaunchResult = {
    pid: r.pid,
    start,
    duration: Math.max(0, (end - start) / 1000),
    raw: r.raw,
    status: r.raw === -1 ? failureOf(r, spec) : decodeWaitStatus(r.raw),
    timedOut: r.timedOut,
    usage: r.raw === -1 ? null : r.usage,
    executable: r.execPath || spec.argv[0],
  };
  if (r.captures.length) {
    for (const c of r.captures) {
      if (c.slot === 0) out.stdout = toCaptured(c);
      else if (c.slot === 1) out.stderr = toCaptured(c);
      else {
        out.captures ??= [];
        out.captures[c.slot - 2] = toCaptured(c);
      }
    }
  }
  return out;
}

/** The native launcher, or null when launch.node is not built or does not load. */
export function createNativeLauncher(options: LauncherOptions): Launcher | null {
  const addon = loadLaunchAddon();
  if (!addon) return null;
  return new NativeLauncher(addon.Spawner, addon.spawnerPath, options);
}
