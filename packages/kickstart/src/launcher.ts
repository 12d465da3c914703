import { createNativeLauncher } from './internal/native-launcher.js';
import { createNodeLauncher } from './internal/node-launcher.js';

/** Where a task's stdout or stderr goes. */
export type StdioTarget =
  | { file: string; append?: boolean }
  /** capture into an unlinked temp file; keep at most this many bytes (the tail) */
  | { capture: number }
  | 'inherit'
  | 'null';

export interface LaunchSpec {
  /** argv[0] is resolved like PMC: with a '/' as is (relative to cwd), else ./name, else PATH */
  argv: string[];
  /** working directory (default: process.cwd() at launch time); relative paths below resolve against it */
  cwd?: string;
  /** additions to the launcher's base environment */
  env?: Record<string, string>;
  /** start from an empty environment (only `env` is given to the task) */
  clearEnv?: boolean;
  /** stdin file (default /dev/null); '-' shares the launcher's stdin */
  stdin?: string;
  stdout?: StdioTarget;
  stderr?: StdioTarget;
  /** capture fd `fd` of the task like stdout; the task finds the number in env var `envVar` */
  extraCaptures?: { fd: number; envVar: string; maxBytes: number }[];
  /** seconds; TERM to the process group at the deadline, KILL killGrace s later; 0 = none */
  timeout?: number;
  /** seconds between TERM and KILL (default 5) */
  killGrace?: number;
  /** RLIMIT_AS/DATA/RSS/STACK in MiB (native launcher only) */
  memoryLimitMb?: number;
  /** CPUs to pin the task to (native launcher only) */
  cpuAffinity?: number[];
}

export interface Rusage {
  /** seconds */
  utime: number;
  /** seconds */
  stime: number;
  /** KiB */
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

export interface Captured {
  /** the last bytes (at most maxBytes) */
  data: Buffer;
  /** total bytes the task wrote */
  size: number;
  truncated: boolean;
}

/** What failed when a task could not start. */
export type LaunchFailureStage = 'spawn' | 'exec' | 'cwd' | 'stdio' | 'capture' | 'limits' | 'request';

export type LaunchStatus =
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: number; name: string; core: boolean }
  | { kind: 'launch-failure'; errno: number; message: string; stage: LaunchFailureStage };

export interface LaunchResult {
  /** 0 when the task never started */
  pid: number;
  /** epoch ms (fractional) */
  start: number;
  /** seconds */
  duration: number;
  /** raw wait status; -1 for a launch failure */
  raw: number;
  status: LaunchStatus;
  timedOut: boolean;
  /** null when unavailable (the node launcher) */
  usage: Rusage | null;
  /** the resolved executable path */
  executable: string;
  stdout?: Captured;
  stderr?: Captured;
  /** in the order of spec.extraCaptures */
  captures?: Captured[];
}

export interface LaunchHandle {
  /** rejects with LaunchCancelledError when the task was cancelled before it started */
  readonly result: Promise<LaunchResult>;
  /**
   * send a signal to the task's process group (ignored once it ended); a task still waiting for
   * its `after` predecessor is cancelled instead: it never starts
   */
  signal(sig: NodeJS.Signals | number): void;
}

export interface LaunchOptions {
  /**
   * start this task only when `after`'s task has ended (reaped); if that task already ended or
   * never existed, start at once. A launch failure or a cancellation of `after` counts as ended.
   * The native launcher starts it in the spawner right after reaping `after`, without a round trip
   * through JS; a handle of another launcher is waited for in JS.
   */
  after?: LaunchHandle;
}

export interface Launcher {
  readonly kind: 'native' | 'node';
  /** false for the node launcher: LaunchResult.usage is null */
  readonly rusageAvailable: boolean;
  launch(spec: LaunchSpec, options?: LaunchOptions): LaunchHandle;
  /**
   * kills running tasks (their launches reject), cancels tasks waiting for a predecessor (they
   * reject with LaunchCancelledError) and releases the spawner
   */
  close(): Promise<void>;
}

export interface LauncherOptions {
  /** auto (default): native when launch.node loads, else node */
  kind?: 'auto' | 'native' | 'node';
  /** base environment of every task (default: process.env when the launcher is created) */
  baseEnv?: Record<string, string>;
  /** directory for capture temp files (default: memfd for native, os.tmpdir() for node) */
  spoolDir?: string;
  /**
   * Native launcher: the result of a task whose chained successor (`launch(spec, { after })`)
   * has started may reach JS up to this many ms late, together with others, so that a run of
   * short back-to-back tasks costs one wake-up per burst instead of one per task. Results of a
   * task that leaves its lane idle, launch failures and cancellations are never held. Default 0.
   */
  resultHoldMs?: number;
}

/** A launch's result rejects with this when the task was cancelled before it started. */
export class LaunchCancelledError extends Error {
  override name = 'LaunchCancelledError';
}

/** Thrown when kind 'native' is asked for and launch.node is not built. */
export class NativeLauncherUnavailableError extends Error {
  override name = 'NativeLauncherUnavailableError';
}

export function createLauncher(options: LauncherOptions = {}): Launcher {
  const kind = options.kind ?? 'auto';
  if (kind === 'node') return createNodeLauncher(options);
  const native = createNativeLauncher(options);
  if (native) return native;
  if (kind === 'native') {
    throw new NativeLauncherUnavailableError(
      'the native launcher is not built (run "node native/launch/build.mjs"); use kind "node" or "auto"',
    );
  }
  return createNodeLauncher(options);
}
