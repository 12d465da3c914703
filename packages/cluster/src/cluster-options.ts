/**
 * Options of the cluster runner (`pegasus-ts cluster`): PMC's names and meanings, plus ours
 * (transport, workers, ...). `clusterOptionHelp` describes every option for commander;
 * `resolveClusterOptions` validates what commander parsed and applies env defaults.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

export interface ClusterOptions {
  dagFile: string;
  /** Merged task stdout target; 'stdout' = the master's stdout. */
  stdout: string;
  /** Merged task stderr target; 'stderr' = the master's stderr. */
  stderr: string;
  skipRescue: boolean;
  /** 0 = unlimited. */
  maxFailures: number;
  tries: number;
  lock: boolean;
  rescue: string;
  hostScript?: string;
  hostMemory?: number;
  hostCpus?: number;
  /** GPUs of each host (overrides what `nvidia-smi -L` reports). */
  hostGpus?: number;
  strictLimits: boolean;
  /** Minutes. */
  maxWallTime?: number;
  perTaskStdio: boolean;
  jobstateLog: boolean;
  monitordHack: boolean;
  resourceLog: boolean;
  maxfds: number;
  keepAffinity: boolean;
  setAffinity: boolean;
  /** 0 fatal, 1 error, 2 warn, 3 info (default), 4 debug, 5 trace. */
  verbosity: number;
  transport: 'zmq' | 'mpi' | 'auto';
  workers?: number;
  worker: boolean;
  connect?: string;
  bind?: string;
  secretFile?: string;
  invocations: string;
  /** Seconds. */
  workerTimeout: number;
  noop: boolean;
  batchSize?: number;
}

/** The options as commander gives them (keys = commander's camelCase of the flags). */
export interface RawClusterOptions {
  /** The positional DAGFILE (put here by the CLI). */
  dagFile?: string;
  stdout?: string;
  stderr?: string;
  skipRescue?: boolean;
  maxFailures?: string;
  tries?: string;
  nolock?: boolean;
  rescue?: string;
  hostScript?: string;
  hostMemory?: string;
  hostCpus?: string;
  hostGpus?: string;
  strictLimits?: boolean;
  maxWallTime?: string;
  perTaskStdio?: boolean;
  jobstateLog?: boolean;
  monitordHack?: boolean;
  /** false with --no-resource-log. */
  resourceLog?: boolean;
  /** false with --no-sleep-on-recv (accepted for PMC compatibility, no effect). */
  sleepOnRecv?: boolean;
  maxfds?: string;
  keepAffinity?: boolean;
  setAffinity?: boolean;
  /** Count of -v. */
  verbose?: number;
  /** Count of -q. */
  quiet?: number;
  transport?: string;
  workers?: string;
  worker?: boolean;
  connect?: string;
  bind?: string;
  secretFile?: string;
  invocations?: string;
  workerTimeout?: string;
  noop?: boolean;
  batchSize?: string;
}

export interface ClusterOptionHelp {
  /** Commander-style flags: `-m, --max-failures <n>`, `--no-resource-log`. */
  flags: string;
  description: string;
  defaultValue?: string;
  /** A repeatable flag whose value is the number of times it was given (-v, -q). */
  count?: boolean;
}

/** Every option, for building the commander program. Defaults shown are informative only
 * (resolveClusterOptions applies them), so do not pass them to commander as values. */
export const clusterOptionHelp: readonly ClusterOptionHelp[] = [
  {
    flags: '-o, --stdout <path>',
    description: 'merged task stdout ("stdout" = this stdout)',
    defaultValue: 'stdout',
  },
  {
    flags: '-e, --stderr <path>',
    description: 'merged task stderr ("stderr" = this stderr)',
    defaultValue: 'stderr',
  },
  { flags: '-s, --skip-rescue', description: 'do not read the rescue file (a new one is still written)' },
  {
    flags: '-m, --max-failures <n>',
    description: 'stop releasing tasks after N tasks failed for good (0 = no limit)',
    defaultValue: '0',
  },
  { flags: '-t, --tries <n>', description: 'attempts for each task without its own -t', defaultValue: '1' },
  { flags: '-n, --nolock', description: 'do not lock the DAG file' },
  { flags: '-r, --rescue <path>', description: 'rescue log path', defaultValue: 'DAGFILE.rescue' },
  {
    flags: '--host-script <path>',
    description: 'script run once per host before any task (env PMC_HOST_SCRIPT)',
  },
  {
    flags: '--host-memory <mb>',
    description: 'memory of each host in MB (env PMC_HOST_MEMORY; default: physical RAM)',
  },
  { flags: '--host-cpus <n>', description: 'CPUs of each host (env PMC_HOST_CPUS; default: detected)' },
  {
    flags: '--host-gpus <n>',
    description: 'GPUs of each host (env PMC_HOST_GPUS; default: what nvidia-smi -L lists, else 0)',
  },
  { flags: '--strict-limits', description: "enforce each task's -m with resource limits" },
  {
    flags: '--max-wall-time <minutes>',
    description: 'wall time of the run in minutes (env PMC_MAX_WALL_TIME)',
  },
  {
    flags: '--per-task-stdio',
    description: 'one TASK.out.NNN / TASK.err.NNN pair per attempt, beside the DAG',
  },
  { flags: '--jobstate-log', description: 'append task events to jobstate.log beside the DAG' },
  {
    flags: '--monitord-hack',
    description: 'write DAGFILE.dagman.out for monitord (implies --per-task-stdio)',
  },
  { flags: '--no-resource-log', description: 'do not write DAGFILE.resource' },
  { flags: '--no-sleep-on-recv', description: 'accepted for PMC compatibility; no effect' },
  {
    flags: '--maxfds <n>',
    description: 'open files kept for forwarded output',
    defaultValue: 'min(256, RLIMIT_NOFILE - 64)',
  },
  {
    flags: '--set-affinity',
    description: 'bind each task of several CPUs to the CPUs it was given (PMC_AFFINITY)',
  },
  {
    flags: '--keep-affinity',
    description: 'accepted for PMC compatibility: workers always keep the inherited CPU affinity',
  },
  { flags: '-v, --verbose', description: 'more log output (repeatable)', count: true },
  { flags: '-q, --quiet', description: 'less log output (repeatable)', count: true },
  {
    flags: '--transport <kind>',
    description: 'zmq, mpi or auto (mpi when started by an MPI launcher)',
    defaultValue: 'auto',
  },
  { flags: '--workers <n>', description: 'number of worker processes to start (zmq transport)' },
  { flags: '--worker', description: 'run as a worker (needs --connect)' },
  { flags: '--connect <endpoint>', description: 'master endpoint a worker connects to' },
  { flags: '--bind <endpoint>', description: 'endpoint the master binds (zmq transport)' },
  { flags: '--secret-file <path>', description: 'shared secret authenticating workers (tcp endpoints)' },
  {
    flags: '--invocations <path>',
    description: 'invocation records file',
    defaultValue: 'DAGFILE.invocations.yml',
  },
  {
    flags: '--worker-timeout <seconds>',
    description: 'how long to wait for workers to register',
    defaultValue: '10',
  },
  { flags: '--noop', description: 'do not run tasks; report each as succeeded (for measuring overhead)' },
  { flags: '--batch-size <n>', description: 'tasks sent to a worker per message (default: automatic)' },
];

type NumKind = 'int>=0' | 'int>=1' | 'float>0';

const EXPECTED: Record<NumKind, string> = {
  'int>=0': 'an integer >= 0',
  'int>=1': 'a positive integer',
  'float>0': 'a positive number',
};

function parseNum(value: string, kind: NumKind, what: string, unit = ''): number {
  const ok =
    kind === 'float>0' ? /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) : /^\+?\d+$/.test(value);
  const x = Number(value);
  const valid =
    ok &&
    Number.isFinite(x) &&
    (kind === 'int>=0' ? x >= 0 : x > 0) &&
    (kind === 'float>0' || Number.isSafeInteger(x)) &&
    (kind === 'float>0' || x <= 0xffffffff);
  if (!valid)
    throw new UsageError(`invalid value for ${what}: "${value}" (expected ${EXPECTED[kind]}${unit})`);
  return x;
}

/** Soft RLIMIT_NOFILE of this process (from /proc/self/limits), or undefined. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Validates commander's output, applies env defaults (the command line wins) and defaults. */
export function resolveClusterOptions(raw: RawClusterOptions, env: NodeJS.ProcessEnv): ClusterOptions {
  const fromEnv = (name: string, kind: NumKind, unit: string): number | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : parseNum(v, kind, name, unit);
  };
  const pick = (flag: string, value: string | undefined, envName: string, kind: NumKind, unit: string) =>
    value !== undefined ? parseNum(value, kind, flag, unit) : fromEnv(envName, kind, unit);

  const worker = raw.worker ?? false;
  const dagFile = raw.dagFile ?? '';
  if (!worker && dagFile === '')
    throw new UsageError('missing DAGFILE (expected: pegasus-ts mpi-cluster [options] DAGFILE)');
  if (worker && raw.connect === undefined) throw new UsageError('--worker requires --connect <endpoint>');

  const hostMemory = pick('--host-memory', raw.hostMemory, 'PMC_HOST_MEMORY', 'int>=1', ' of MB');
  const hostCpus = pick('--host-cpus', raw.hostCpus, 'PMC_HOST_CPUS', 'int>=1', ' of CPUs');
  const hostGpus = pick('--host-gpus', raw.hostGpus, 'PMC_HOST_GPUS', 'int>=0', ' of GPUs');
  const maxWallTime = pick('--max-wall-time', raw.maxWallTime, 'PMC_MAX_WALL_TIME', 'float>0', ' of minutes');
  const setAffinity = raw.setAffinity ?? false;
  // PMC's rule: CPU numbers only mean something on the real host.
  if (setAffinity && hostCpus !== undefined) {
    throw new UsageError(
      `${raw.hostCpus !== undefined ? '--host-cpus' : 'PMC_HOST_CPUS'} is not compatible with --set-affinity`,
    );
  }
  const hostScript = raw.hostScript ?? (env.PMC_HOST_SCRIPT || undefined);

  const limit = openFileLimit();
  let maxfds: number;
  if (raw.maxfds !== undefined) {
    maxfds = parseNum(raw.maxfds, 'int>=1', '--maxfds');
    if (limit !== undefined && maxfds > limit) {
      throw new UsageError(
        `invalid value for --maxfds: "${raw.maxfds}" (expected at most the open file limit ${limit})`,
      );
    }
  } else {
    maxfds = limit === undefined ? 64 : Math.max(1, Math.min(256, limit - 64));
  }

  const transport = raw.transport ?? 'auto';
  if (transport !== 'zmq' && transport !== 'mpi' && transport !== 'auto') {
    throw new UsageError(`invalid value for --transport: "${transport}" (expected zmq, mpi or auto)`);
  }
  const monitordHack = raw.monitordHack ?? false;
  const verbosity = Math.max(0, Math.min(5, 3 + (raw.verbose ?? 0) - (raw.quiet ?? 0)));

  return {
    dagFile,
    stdout: raw.stdout ?? 'stdout',
    stderr: raw.stderr ?? 'stderr',
    skipRescue: raw.skipRescue ?? false,
    maxFailures: raw.maxFailures === undefined ? 0 : parseNum(raw.maxFailures, 'int>=0', '--max-failures'),
    tries: raw.tries === undefined ? 1 : parseNum(raw.tries, 'int>=1', '--tries'),
    lock: !(raw.nolock ?? false),
    rescue: raw.rescue ?? `${dagFile}.rescue`,
    hostScript,
    hostMemory,
    hostCpus,
    hostGpus,
    strictLimits: raw.strictLimits ?? false,
    maxWallTime,
    perTaskStdio: (raw.perTaskStdio ?? false) || monitordHack,
    jobstateLog: raw.jobstateLog ?? false,
    monitordHack,
    resourceLog: raw.resourceLog ?? true,
    maxfds,
    keepAffinity: raw.keepAffinity ?? false,
    setAffinity,
    verbosity,
    transport,
    workers: raw.workers === undefined ? undefined : parseNum(raw.workers, 'int>=1', '--workers'),
    worker,
    connect: raw.connect,
    bind: raw.bind,
    secretFile: raw.secretFile,
    invocations: raw.invocations ?? `${dagFile}.invocations.yml`,
    workerTimeout:
      raw.workerTimeout === undefined
        ? 10
        : parseNum(raw.workerTimeout, 'float>0', '--worker-timeout', ' of seconds'),
    noop: raw.noop ?? false,
    batchSize: raw.batchSize === undefined ? undefined : parseNum(raw.batchSize, 'int>=1', '--batch-size'),
  };
}
