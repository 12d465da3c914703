import { readFileSync } from 'node:fs';
import {
  arch,
  cpus,
  freemem,
  hostname,
  loadavg,
  networkInterfaces,
  release,
  totalmem,
  type,
  userInfo,
} from 'node:os';
import { isoTime } from './internal/iso-time.js';
import { errnoMessage, signalDescription } from './internal/wait-status.js';
import type { Captured, LaunchResult, Rusage } from './launcher.js';
import { groupName, type StatInfo } from './stat-files.js';

/** status of a job in the record (keys as written; note kickstart's real 'singalled_name' typo). */
export interface RecordStatus {
  raw: number;
  regular_exitcode?: number;
  signalled_signal?: number;
  singalled_name?: string;
  corefile?: boolean;
  /** "<errno> <message>" of a launch failure (raw -1) */
  failure_error?: string;
}

export interface JobRecord {
  /** epoch ms */
  start: number;
  /** seconds */
  duration: number;
  pid: number;
  /** null: rusage unavailable (the node launcher) */
  usage: Rusage | null;
  status: RecordStatus;
  executable: StatInfo;
  /** argv[1..] */
  argument_vector: string[];
}

/** A Pegasus kickstart 3.0 invocation record (the fields that mean something here). */
export interface InvocationRecord {
  version: '3.0';
  /** epoch ms */
  start: number;
  /** seconds */
  duration: number;
  transformation?: string;
  derivation?: string;
  resource?: string;
  wfLabel?: string;
  wfStamp?: string;
  interface?: string;
  hostaddr?: string;
  hostname: string;
  /** kickstart's own pid */
  pid: number;
  uid: number;
  user?: string;
  gid: number;
  group?: string;
  umask: number;
  mainjob: JobRecord;
  /** the task was killed by kickstart's -k timeout */
  timedOut?: boolean;
  cwd: string;
  /** kickstart's own usage */
  usage: Rusage;
  /** omitted with -H */
  machine?: Record<string, string | number>;
  /** -S/-s entries (by lfn), then stdin, stdout, stderr */
  files: [string, StatInfo][];
  /** only on failure or -f */
  environment?: Record<string, string>;
  /** only on failure or -f */
  limits?: Record<string, string>;
}

/** What buildInvocationRecord needs. */
export interface RecordInput {
  transformation?: string;
  derivation?: string;
  resource?: string;
  wfLabel?: string;
  wfStamp?: string;
  /** -H: no machine block */
  noHeader?: boolean;
  /** -f: environment and limits even on success */
  full?: boolean;
  /** -q: no stdout/stderr data when the job succeeded */
  quiet?: boolean;
  /** kickstart's start and end, epoch ms */
  start: number;
  end: number;
  result: LaunchResult;
  argv: readonly string[];
  cwd: string;
  executable: StatInfo;
  /** -S/-s statinfos, in order */
  statFiles: [string, StatInfo][];
  stdin: StatInfo;
  /** statinfo of the stdout/stderr file, or null when captured (the capture then fills it) */
  stdout: StatInfo;
  stderr: StatInfo;
  /** the task's environment (written only on failure or with full) */
  environment: () => Record<string, string>;
  /** whether the job succeeded (decides -q and the failure-only blocks) */
  succeeded: boolean;
}

interface HostInfo {
  hostname: string;
  interface?: string;
  hostaddr?: string;
  uid: number;
  user?: string;
  gid: number;
  group?: string;
  umask: number;
  machine: Record<string, string | number>;
}

let host: HostInfo | undefined;

function hostInfo(): HostInfo {
  if (host) return host;
  const u = userInfo();
  const h: HostInfo = {
    hostname: hostname(),
    uid: u.uid,
    user: u.username,
    gid: u.gid,
    umask: 0o022,
    machine: {},
  };
  const g = groupName(u.gid);
  if (g !== undefined) h.group = g;
  const mask = process.umask(0o022);
  process.umask(mask);
  h.umask = mask;
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) {
      h.interface = name;
      h.hostaddr = a.address;
      break;
    }
  }
  const c = cpus();
  h.machine = {
    'page-size': 4096,
    uname_system: type().toLowerCase(),
    uname_nodename: h.hostname,
    uname_release: release(),
    uname_machine: arch() === 'x64' ? 'x86_64' : arch(),
    ram_total: Math.round(totalmem() / 1024),
    cpu_count: c.length,
    cpu_speed: c[0]?.speed ?? 0,
    cpu_model: c[0]?.model ?? '',
  };
  host = h;
  return h;
}

function machineNow(): Record<string, string | number> {
  const [l1, l5, l15] = loadavg();
  return {
    ...hostInfo().machine,
    ram_free: Math.round(freemem() / 1024),
    load_min1: Math.round(l1 * 100) / 100,
    load_min5: Math.round(l5 * 100) / 100,
    load_min15: Math.round(l15 * 100) / 100,
  };
}

/** How long a reading of the launcher's own usage is reused (a worker writes thousands of records a second). */
const SELF_USAGE_TTL_MS = 100;
let lastSelfUsage: { at: number; usage: Rusage } | undefined;

/** kickstart's own rusage, from process.resourceUsage() (read at most every 100 ms). */
export function selfUsage(): Rusage {
  const now = Date.now();
  if (lastSelfUsage && now - lastSelfUsage.at < SELF_USAGE_TTL_MS) return lastSelfUsage.usage;
  const u = process.resourceUsage();
  const usage: Rusage = {
    utime: u.userCPUTime / 1e6,
    stime: u.systemCPUTime / 1e6,
    maxrss: u.maxRSS,
    minflt: u.minorPageFault,
    majflt: u.majorPageFault,
    nswap: u.swappedOut,
    inblock: u.fsRead,
    outblock: u.fsWrite,
    msgsnd: u.ipcSent,
    msgrcv: u.ipcReceived,
    nsignals: u.signalsCount,
    nvcsw: u.voluntaryContextSwitches,
    nivcsw: u.involuntaryContextSwitches,
  };
  lastSelfUsage = { at: now, usage };
  return usage;
}

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'CPU',
  'Max file size': 'FSIZE',
  'Max data size': 'DATA',
  'Max stack size': 'STACK',
  'Max core file size': 'CORE',
  'Max resident set': 'RSS',
  'Max processes': 'NPROC',
  'Max open files': 'NOFILE',
  'Max locked memory': 'MEMLOCK',
  'Max address space': 'AS',
  'Max file locks': 'LOCKS',
  'Max pending signals': 'SIGPENDING',
  'Max msgqueue size': 'MSGQUEUE',
  'Max nice priority': 'NICE',
  'Max realtime priority': 'RTPRIO',
  'Max realtime timeout': 'RTTIME',
};

/** Resource limits as RLIMIT_<X>_soft/_hard (from /proc/self/limits; empty elsewhere). */
export function resourceLimits(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
      const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      const name = m && LIMIT_NAMES[m[1]];
      if (m && name) {
        out[`RLIMIT_${name}_soft`] = m[2];
        out[`RLIMIT_${name}_hard`] = m[3];
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

/** The record's status block for a launch result. */
export function recordStatus(r: LaunchResult): RecordStatus {
  const s = r.status;
  switch (s.kind) {
    case 'exit':
      return { raw: r.raw, regular_exitcode: s.code };
    case 'signal':
      return {
        raw: r.raw,
        signalled_signal: s.signal,
        singalled_name: signalDescription(s.signal),
        corefile: s.core,
      };
    case 'launch-failure':
      return { raw: -1, failure_error: `${s.errno} ${s.message || errnoMessage(s.errno)}` };
  }
}

function withCapture(info: StatInfo, c: Captured | undefined, fd: number, keepData: boolean): StatInfo {
  if (!c) return info;
  const out: StatInfo = { descriptor: fd, size: c.size, data_truncated: c.truncated };
  if (keepData && c.data.length > 0) out.data = c.data.toString('utf8');
  return out;
}

export function buildInvocationRecord(input: RecordInput): InvocationRecord {
  const h = hostInfo();
  const r = input.result;
  const keepData = !(input.quiet && input.succeeded);
  const rec: InvocationRecord = {
    version: '3.0',
    start: input.start,
    duration: Math.max(0, (input.end - input.start) / 1000),
    hostname: h.hostname,
    pid: process.pid,
    uid: h.uid,
    gid: h.gid,
    umask: h.umask,
    mainjob: {
      start: r.start,
      duration: r.duration,
      pid: r.pid,
      usage: r.usage,
      status: recordStatus(r),
      executable: input.executable,
      argument_vector: input.argv.slice(1),
    },
    cwd: input.cwd,
    usage: selfUsage(),
    files: [
      ...input.statFiles,
      ['stdin', input.stdin],
      ['stdout', withCapture(input.stdout, r.stdout, 1, keepData)],
      ['stderr', withCapture(input.stderr, r.stderr, 2, keepData)],
    ],
  };
  if (input.transformation !== undefined) rec.transformation = input.transformation;
  if (input.derivation !== undefined) rec.derivation = input.derivation;
  if (input.resource !== undefined) rec.resource = input.resource;
  if (input.wfLabel !== undefined) rec.wfLabel = input.wfLabel;
  if (input.wfStamp !== undefined) rec.wfStamp = input.wfStamp;
  if (h.interface !== undefined) rec.interface = h.interface;
  if (h.hostaddr !== undefined) rec.hostaddr = h.hostaddr;
  if (h.user !== undefined) rec.user = h.user;
  if (h.group !== undefined) rec.group = h.group;
  if (r.timedOut) rec.timedOut = true;
  if (!input.noHeader) rec.machine = machineNow();
  if (input.full || !input.succeeded) {
    rec.environment = input.environment();
    rec.limits = resourceLimits();
  }
  return rec;
}

export { isoTime };
