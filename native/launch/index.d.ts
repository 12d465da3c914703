/** A running pegasus-ts-spawner, driven over a socketpair (see README.md for the wire format). */
export interface NativeSpawner {
  /** Sends request bytes (frames made by RequestEncoder); false when the spawner is gone. */
  write(bytes: Buffer): boolean;
  /** Shuts down the request channel: the spawner kills every running task and exits. */
  close(): void;
  /** Keep the event loop alive while launches are pending. */
  ref(): void;
  unref(): void;
  readonly pid: number;
}

export interface NativeSpawnerConstructor {
  /**
   * Starts the spawner. onData gets each chunk of result bytes; at the end (spawner exited or the
   * channel broke) it gets (null, raw wait status of the spawner, errno of the failed read or 0).
   */
  new (
    spawnerPath: string,
    onData: (chunk: Buffer | null, status?: number, errno?: number) => void,
  ): NativeSpawner;
}

export interface LaunchAddon {
  Spawner: NativeSpawnerConstructor;
  spawnerPath: string;
}

export const buildDir: string;
export const spawnerPath: string;
export function loadLaunchAddon(): LaunchAddon | null;
export function launchAddonError(): string | null;

// ---- wire format (wire.js)
/** Sent first in SETUP; the spawner exits (65) on a mismatch. */
export const WIRE_VERSION: 3;
export const REQ_SETUP: 1;
export const REQ_LAUNCH: 2;
export const REQ_SIGNAL: 3;
export const RES_RESULT: 1;
export const RESULT_TIMED_OUT: 1;
export const RESULT_CANCELLED: 2;
export const STDIO_INHERIT: 0;
export const STDIO_NULL: 1;
export const STDIO_FILE: 2;
export const STDIO_APPEND: 3;
export const STDIO_CAPTURE: 4;
export type WireStage = 'none' | 'spawn' | 'exec' | 'cwd' | 'stdio' | 'capture' | 'limits' | 'request';
export const STAGES: readonly WireStage[];

export interface WireStdio {
  kind: number;
  maxBytes?: number;
  path?: string;
}

export interface WireLaunch {
  id: number;
  /**
   * Start only once task `after` has ended (reaped, launch failure or cancelled); 0/undefined, or
   * an id the spawner does not know (already ended), = start now.
   */
  after?: number;
  clearEnv?: boolean;
  /** seconds, 0 = none */
  timeout?: number;
  /** seconds between TERM and KILL */
  grace?: number;
  memoryMb?: number;
  cpus?: number[];
  argv: string[];
  /** absolute; '' = the spawner's cwd */
  cwd: string;
  /** "K=V" additions */
  env: string[];
  /** stdin, stdout, stderr */
  stdio: [WireStdio, WireStdio, WireStdio];
  extra?: { fd: number; maxBytes: number; envVar: string }[];
}

export class RequestEncoder {
  readonly pending: number;
  /** holdMs: how long the spawner may hold back the result of a task whose chained successor it started (default 0: never) */
  setup(spoolDir: string, env: Record<string, string> | null, holdMs?: number): void;
  launch(r: WireLaunch): void;
  signal(id: number, sig: number): void;
  take(): Buffer;
}

export interface WireUsage {
  utime: number;
  stime: number;
  maxrss: number;
  minflt: number;
  majflt: number;
  nswap: number;
  inblock: number;
  outblock: number;
  msgsnd: number;
  msgrcv: number;
  nsignals: number;
  nvcsw: number;
  nivcsw: number;
}

export interface WireCapture {
  /** 0 stdout, 1 stderr, 2 + i extra capture i */
  slot: number;
  size: number;
  truncated: boolean;
  data: Buffer;
}

export interface WireResult {
  id: number;
  pid: number;
  /** wait status; -1 for a launch failure */
  raw: number;
  /** 0, or the errno of a launch failure */
  errno: number;
  stage: WireStage;
  timedOut: boolean;
  /** cancelled (SIGNAL, or the channel closed) while waiting for `after`: never started */
  cancelled: boolean;
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
  usage: WireUsage;
  execPath: string;
  captures: WireCapture[];
}

export class ResultDecoder {
  push(chunk: Buffer): WireResult[];
}
