// Pure parsing of what Slurm's client commands print (Slurm 22.05 checked, see the fixtures in
// test/slurm-parse.test.ts): `sbatch --parsable`, `scontrol -o show job`, `squeue -h -O ...`.
import { waitStatusParts } from '@pegasus-ts/kickstart/wait-status';
import { SlurmError } from './slurm-error.js';

/** A Slurm job state reduced to what the engine acts on. */
export type SlurmState =
  | 'pending'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'timeout'
  | 'node_fail'
  | 'out_of_memory'
  | 'preempted'
  | 'unknown';

/** One job as Slurm reports it. */
export interface SlurmJobInfo {
  /** job id as Slurm prints it (`123`, `123_4` for an array task, `123+0` for a het job part) */
  id: string;
  name: string;
  state: SlurmState;
  /** Slurm's own state word, e.g. `COMPLETING`, `OUT_OF_MEMORY` */
  rawState: string;
  /** Slurm's reason (`None`, `Resources`, `NonZeroExitCode`, `TimeLimit`, ...) */
  reason: string;
  /** exit code of the batch script (0 while it runs; 0 when it was killed by a signal) */
  exitCode: number;
  /** signal that ended the batch script, 0 if none */
  signal: number;
  /** when it was submitted (local time of the controller) */
  submit?: Date;
  /** when it started (absent while pending) */
  start?: Date;
  /** when it ended (absent until it has) */
  end?: Date;
  /** nodes it runs or ran on (Slurm host list syntax), '' while pending */
  nodes: string;
}

const STATES: Record<string, SlurmState> = {
  PENDING: 'pending',
  CONFIGURING: 'pending',
  REQUEUED: 'pending',
  REQUEUE_HOLD: 'pending',
  REQUEUE_FED: 'pending',
  RESV_DEL_HOLD: 'pending',
  RUNNING: 'running',
  COMPLETING: 'running',
  SUSPENDED: 'running',
  STOPPED: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  RESIZING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  SPECIAL_EXIT: 'failed',
  CANCELLED: 'cancelled',
  REVOKED: 'cancelled',
  TIMEOUT: 'timeout',
  DEADLINE: 'timeout',
  NODE_FAIL: 'node_fail',
  BOOT_FAIL: 'node_fail',
  OUT_OF_MEMORY: 'out_of_memory',
  PREEMPTED: 'preempted',
};

/** Slurm's state word (`RUNNING`, `CANCELLED by 0`, `CD`, ...) as a {@link SlurmState}. */
export function mapSlurmState(raw: string): SlurmState {
  const word = raw.trim().split(/[\s+]/, 1)[0]!.toUpperCase();
  return STATES[word] ?? STATES[SHORT[word] ?? ''] ?? 'unknown';
}

/** squeue's compact codes (`%t`). */
const SHORT: Record<string, string> = {
  PD: 'PENDING',
  CF: 'CONFIGURING',
  RQ: 'REQUEUED',
  RH: 'REQUEUE_HOLD',
  RF: 'REQUEUE_FED',
  RD: 'RESV_DEL_HOLD',
  R: 'RUNNING',
  CG: 'COMPLETING',
  S: 'SUSPENDED',
  ST: 'STOPPED',
  SI: 'SIGNALING',
  SO: 'STAGE_OUT',
  RS: 'RESIZING',
  CD: 'COMPLETED',
  F: 'FAILED',
  SE: 'SPECIAL_EXIT',
  CA: 'CANCELLED',
  RV: 'REVOKED',
  TO: 'TIMEOUT',
  DL: 'DEADLINE',
  NF: 'NODE_FAIL',
  BF: 'BOOT_FAIL',
  OOM: 'OUT_OF_MEMORY',
  PR: 'PREEMPTED',
};

/** Whether a job in this state is over (it will not run, or run on, by itself). */
export function isTerminalState(s: SlurmState): boolean {
  return s !== 'pending' && s !== 'running' && s !== 'unknown';
}

/** `sbatch --parsable` output: `ID` or `ID;CLUSTER` (the last non-empty line). */
export function parseSbatchParsable(stdout: string): { id: string; cluster?: string } {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.length ? lines[lines.length - 1]!.trim() : '';
  const m = /^(\d+)(?:;(\S+))?$/.exec(last);
  if (!m) {
    throw new SlurmError(
      'parse',
      `sbatch --parsable printed ${JSON.stringify(last.slice(0, 200))} (expected a job id, or ID;CLUSTER)`,
      { command: 'sbatch' },
    );
  }
  return m[2] === undefined ? { id: m[1]! } : { id: m[1]!, cluster: m[2] };
}

/** Slurm's `N:S` exit code (scontrol, sacct): exit status N, signal S. */
export function parseExitCodePair(text: string): { exitCode: number; signal: number } {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) return { exitCode: -1, signal: 0 };
  return { exitCode: Number(m[1]), signal: Number(m[2]) };
}

/** A raw wait status as squeue's `exit_code` field prints it (768 = exit 3, 9 = signal 9). */
export function decodeWaitStatus(text: string): { exitCode: number; signal: number } {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return { exitCode: -1, signal: 0 };
  const { exitCode, signal } = waitStatusParts(Number(t));
  return { exitCode, signal };
}

/**
 * A Slurm time stamp (`2026-11-21T12:15:23`, the controller's local time, which is this
 * machine's on a single node) as a Date; `N/A`, `Unknown`, `None`, '' give undefined.
 */
export function parseSlurmTime(text: string): Date | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(t)) return undefined;
  const d = new Date(t); // no offset: local time
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function info(
  id: string,
  name: string,
  rawState: string,
  reason: string,
  code: { exitCode: number; signal: number },
  submit: string,
  start: string,
  end: string,
  nodes: string,
): SlurmJobInfo {
  const state = mapSlurmState(rawState);
  const j: SlurmJobInfo = {
    id,
    name,
    state,
    rawState: rawState.trim().split(/\s/, 1)[0] ?? '',
    reason,
    exitCode: code.exitCode,
    signal: code.signal,
    nodes: nodes === '(null)' ? '' : nodes,
  };
  const sub = parseSlurmTime(submit);
  if (sub) j.submit = sub;
  // while pending, StartTime is a forecast; until the end, EndTime is start + time limit
  if (state !== 'pending') {
    const s = parseSlurmTime(start);
    if (s) j.start = s;
  }
  if (isTerminalState(state)) {
    const e = parseSlurmTime(end);
    if (e) j.end = e;
  }
  return j;
}

/**
 * The `key=value` fields of one `scontrol -o show job` line. A value runs to the next
 * ` Key=` (so values with spaces, like `JobName=fail me`, are kept whole); JobName, which may
 * hold anything, runs to ` UserId=` (the field scontrol always prints after it).
 */
export function scontrolFields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  let rest = line.trim();
  const jn = rest.indexOf(' JobName=');
  const uid = jn >= 0 ? rest.indexOf(' UserId=', jn) : -1;
  if (jn >= 0 && uid > jn) {
    out.set('JobName', rest.slice(jn + 9, uid));
    rest = rest.slice(0, jn) + rest.slice(uid);
  }
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:.]*)=/g;
  const keys: { key: string; at: number; valueAt: number }[] = [];
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    keys.push({ key: m[1]!, at: m.index, valueAt: m.index + m[0].length });
  }
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const end = i + 1 < keys.length ? keys[i + 1]!.at : rest.length;
    if (!out.has(k.key)) out.set(k.key, rest.slice(k.valueAt, end).trim());
  }
  return out;
}

/** One `scontrol -o show job` line (must start with `JobId=`), or undefined for other lines. */
export function parseScontrolJobLine(line: string): SlurmJobInfo | undefined {
  if (!line.trimStart().startsWith('JobId=')) return undefined;
  const f = scontrolFields(line);
  const g = (k: string) => f.get(k) ?? '';
  return info(
    g('JobId'),
    g('JobName'),
    g('JobState'),
    g('Reason'),
    parseExitCodePair(g('ExitCode')),
    g('SubmitTime'),
    g('StartTime'),
    g('EndTime'),
    g('NodeList'),
  );
}

/** Every job of `scontrol -o show job [ID]` output (`No jobs in the system` gives none). */
export function parseScontrolJobs(stdout: string): SlurmJobInfo[] {
  const out: SlurmJobInfo[] = [];
  for (const line of stdout.split('\n')) {
    const j = parseScontrolJobLine(line);
    if (j) out.push(j);
  }
  return out;
}

/**
 * The `squeue -h -O` format {@link parseSqueue} reads: `|`-separated, the name last (it may
 * hold anything, even `|`). exit_code is the raw wait status.
 */
export const SQUEUE_FORMAT =
  'JobID:|,State:|,Reason:|,exit_code:|,SubmitTime:|,StartTime:|,EndTime:|,NodeList:|,Name:';

const SQUEUE_FIELDS = 9;

/** `squeue -h -O` + {@link SQUEUE_FORMAT} output, one job per line. */
export function parseSqueue(stdout: string): SlurmJobInfo[] {
  const out: SlurmJobInfo[] = [];
  let lineNo = 0;
  for (const raw of stdout.split('\n')) {
    lineNo++;
    if (raw.trim() === '') continue;
    const parts = raw.split('|');
    if (parts.length < SQUEUE_FIELDS) {
      throw new SlurmError(
        'parse',
        `squeue output line ${lineNo} ${JSON.stringify(raw.slice(0, 200))} has ${parts.length} fields (expected ${SQUEUE_FIELDS}: ${SQUEUE_FORMAT})`,
        { command: 'squeue' },
      );
    }
    const [id, state, reason, code, submit, start, end, nodes] = parts.map((p) => p.trim());
    const name = parts.slice(SQUEUE_FIELDS - 1).join('|');
    out.push(
      info(id!, name.trimEnd(), state!, reason!, decodeWaitStatus(code!), submit!, start!, end!, nodes!),
    );
  }
  return out;
}

/**
 * `squeue -h -o FORMAT` output for a format of `%`-fields separated by `sep` (e.g. `%i|%j|%T`):
 * one record per line, keyed by the field letters (the last field takes the rest of the line).
 */
export function parseSqueueFormat(stdout: string, format: string, sep = '|'): Record<string, string>[] {
  const keys = format.split(sep).map((f) => f.replace(/^%[.\d]*/, ''));
  const out: Record<string, string>[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const parts = line.split(sep);
    const rec: Record<string, string> = {};
    keys.forEach((k, i) => {
      rec[k] = (i === keys.length - 1 ? parts.slice(i).join(sep) : (parts[i] ?? '')).trim();
    });
    out.push(rec);
  }
  return out;
}
