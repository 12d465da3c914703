import { appendFile, mkdir, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { kickstartExitCode, RECORD_WRITE_FAILED } from './exit-code.js';
import { forwardSignals } from './internal/signal-forwarding.js';
import { envSnapshot } from './internal/spec-defaults.js';
import { errnoOfCode, launchFailure } from './internal/wait-status.js';
import { buildInvocationRecord, type InvocationRecord } from './invocation-record.js';
import {
  createLauncher,
  type Launcher,
  type LaunchResult,
  type LaunchSpec,
  type StdioTarget,
} from './launcher.js';
import { formatRecordYaml } from './record-yaml.js';
import { parseStatArgs, type StatInfo, statEntries, statFile } from './stat-files.js';

/** Default -B: bytes of stdout/stderr tail kept in the record. */
export const DEFAULT_TAIL_BYTES = 256 * 1024;

/**
 * One kickstart run, option by option (spec 4.1). The CLI maps its flags to these fields; nothing
 * here parses argv. Relative paths resolve against `workdir` (else process.cwd()).
 */
export interface KickstartOptions {
  /** the application and its arguments */
  argv: string[];
  /** -n: transformation FQN (ns::name:ver) */
  transformation?: string;
  /** -N: derivation (abstract job id) */
  derivation?: string;
  /** -R: site handle (resource) */
  resource?: string;
  /** -L: workflow label */
  wfLabel?: string;
  /** -T: workflow timestamp (ISO) */
  wfStamp?: string;
  /** -H: omit the machine block */
  noHeader?: boolean;
  /** -i: stdin file; '-' shares kickstart's stdin; default /dev/null */
  stdin?: string;
  /** -o: stdout file; '!file' appends; '-' shares kickstart's stdout; default: captured tail in the record */
  stdout?: string;
  /** -e: like stdout, for stderr */
  stderr?: string;
  /** -l: append the record to this file instead of writing it to stdout */
  logFile?: string;
  /** -S: stat before the job: 'lfn=pfn', 'pfn' or '@listfile' */
  statBefore?: string[];
  /** -s: stat (and sha256) after the job: 'lfn=pfn', 'pfn' or '@listfile' */
  statAfter?: string[];
  /** -w: working directory of the job */
  workdir?: string;
  /** -W: create workdir first (mkdir -p) */
  createWorkdir?: boolean;
  /** -B: bytes of stdout/stderr tail in the record; 'all' keeps everything (default 256 KiB) */
  tailBytes?: number | 'all';
  /** -f: environment and limits in the record even on success */
  full?: boolean;
  /** -q: no stdout/stderr data in the record when the job succeeded */
  quiet?: boolean;
  /** -k: seconds before TERM (0 = never) */
  timeout?: number;
  /** -K: seconds between TERM and KILL (default 5) */
  killGrace?: number;
  /** additions to the job's environment */
  env?: Record<string, string>;
  /** memory limit in MiB (native launcher) */
  memoryLimitMb?: number;
  /** CPU affinity (native launcher) */
  cpuAffinity?: number[];
  /** extra fds to capture (PMC's -f VAR=PATH); their bytes come back in `result.captures` */
  extraCaptures?: LaunchSpec['extraCaptures'];
  /** forward SIGINT/SIGTERM/SIGQUIT of this process to the job (default true) */
  forwardSignals?: boolean;
  /** write the record to stdout or the -l file (default true; false: only return it) */
  writeRecord?: boolean;
  /** launcher to use (default: one shared launcher for the process, native when built) */
  launcher?: Launcher;
}

export interface KickstartOutcome {
  record: InvocationRecord;
  yaml: string;
  /** kickstart's exit code (spec 4.2) */
  exitCode: number;
  result: LaunchResult;
}

let shared: Launcher | undefined;

/** The process-wide launcher runKickstart uses when none is given. */
export function defaultLauncher(): Launcher {
  shared ??= createLauncher();
  return shared;
}

function stdioTarget(v: string | undefined, tail: number, cwd: string): StdioTarget {
  if (v === undefined) return { capture: tail };
  if (v === '-') return 'inherit';
  if (v.startsWith('!')) return { file: resolve(cwd, v.slice(1)), append: true };
  return { file: resolve(cwd, v) };
}

function failedResult(start: number, errno: number, stage: 'cwd', what: string, exe: string): LaunchResult {
  return {
    pid: 0,
    start,
    duration: 0,
    raw: -1,
    status: launchFailure(errno, stage, what),
    timedOut: false,
    usage: null,
    executable: exe,
  };
}

async function checkWorkdir(dir: string, create: boolean): Promise<number> {
  try {
    if (create) await mkdir(dir, { recursive: true });
    const st = await stat(dir);
    return st.isDirectory() ? 0 : 20; // ENOTDIR
  } catch (e) {
    return errnoOfCode((e as NodeJS.ErrnoException).code) || 2;
  }
}

/** Runs one job like pegasus-kickstart and returns its record, YAML and exit code. */
export async function runKickstart(options: KickstartOptions): Promise<KickstartOutcome> {
  const start = performance.timeOrigin + performance.now();
  if (!options.argv.length) throw new TypeError('KickstartOptions.argv must name the application');
  const cwd = options.workdir ? resolve(options.workdir) : process.cwd();
  const tail = options.tailBytes === 'all' ? 0xffffffff : (options.tailBytes ?? DEFAULT_TAIL_BYTES);
  const stdinPath = options.stdin === undefined ? '/dev/null' : options.stdin;
  const stdout = stdioTarget(options.stdout, tail, cwd);
  const stderr = stdioTarget(options.stderr, tail, cwd);
  const launcher = options.launcher ?? defaultLauncher();
  const env = options.env ?? {};

  let result: LaunchResult;
  let before: [string, StatInfo][] = [];
  const werr = options.workdir ? await checkWorkdir(cwd, options.createWorkdir === true) : 0;
  if (werr) {
    result = failedResult(start, werr, 'cwd', cwd, options.argv[0]);
  } else {
    before = await statEntries(await parseStatArgs(options.statBefore ?? [], cwd), false);
    const handle = launcher.launch({
      argv: options.argv,
      cwd,
      env,
      stdin: stdinPath === '-' ? '-' : resolve(cwd, stdinPath),
      stdout,
      stderr,
      extraCaptures: options.extraCaptures,
      timeout: options.timeout ?? 0,
      killGrace: options.killGrace ?? 5,
      memoryLimitMb: options.memoryLimitMb,
      cpuAffinity: options.cpuAffinity,
    });
    const stop = options.forwardSignals === false ? null : forwardSignals(handle);
    try {
      result = await handle.result;
    } finally {
      stop?.();
    }
  }

  const [after, executable, stdinInfo, stdoutInfo, stderrInfo] = await Promise.all([
    parseStatArgs(options.statAfter ?? [], cwd).then((e) => statEntries(e, true)),
    isAbsolute(result.executable)
      ? statFile(result.executable)
      : Promise.resolve<StatInfo>({ file_name: result.executable }),
    stdinPath === '-' ? Promise.resolve<StatInfo>({ descriptor: 0 }) : statFile(resolve(cwd, stdinPath)),
    typeof stdout === 'object' && 'file' in stdout
      ? statFile(stdout.file)
      : Promise.resolve<StatInfo>({ descriptor: 1 }),
    typeof stderr === 'object' && 'file' in stderr
      ? statFile(stderr.file)
      : Promise.resolve<StatInfo>({ descriptor: 2 }),
  ]);
  const exitCode = kickstartExitCode(result);
  const statFiles = new Map<string, StatInfo>(before);
  for (const [k, v] of after) statFiles.set(k, v);
  const record = buildInvocationRecord({
    transformation: options.transformation,
    derivation: options.derivation,
    resource: options.resource,
    wfLabel: options.wfLabel,
    wfStamp: options.wfStamp,
    noHeader: options.noHeader,
    full: options.full,
    quiet: options.quiet,
    start,
    end: performance.timeOrigin + performance.now(),
    result,
    argv: options.argv,
    cwd,
    executable,
    statFiles: [...statFiles],
    stdin: stdinInfo,
    stdout: stdoutInfo,
    stderr: stderrInfo,
    environment: () => {
      const base = envSnapshot(process.env);
      return { ...base, ...env };
    },
    succeeded: exitCode === 0,
  });
  const yaml = formatRecordYaml(record);
  let code = exitCode;
  if (options.writeRecord !== false) {
    try {
      if (options.logFile) await appendFile(resolve(options.logFile), yaml);
      else await writeStdout(yaml);
    } catch {
      code = RECORD_WRITE_FAILED;
    }
  }
  return { record, yaml, exitCode: code, result };
}

function writeStdout(s: string): Promise<void> {
  return new Promise((res, rej) => {
    process.stdout.write(s, (e) => (e ? rej(e) : res()));
  });
}
