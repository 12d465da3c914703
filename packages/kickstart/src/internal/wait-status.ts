import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import type { LaunchFailureStage, LaunchStatus } from '../launcher.js';
import { waitStatusOf, waitStatusParts } from '../wait-status.js';

const signalNames: string[] = [];
for (const [name, num] of Object.entries(constants.signals)) {
  if (signalNames[num] === undefined) signalNames[num] = name;
}

/** 'SIGTERM' for 15; 'SIG<n>' for an unknown number. */
export function signalName(sig: number): string {
  return signalNames[sig] ?? `SIG${sig}`;
}

/** A signal name or number as a number (throws a TypeError for an unknown name). */
export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = (constants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new TypeError(`unknown signal ${sig}`);
  return n;
}

// strsignal(3) texts on Linux, as kickstart prints them in singalled_name
const descriptions: Record<number, string> = {
  1: 'Hangup',
  2: 'Interrupt',
  3: 'Quit',
  4: 'Illegal instruction',
  5: 'Trace/breakpoint trap',
  6: 'Aborted',
  7: 'Bus error',
  8: 'Floating point exception',
  9: 'Killed',
  10: 'User defined signal 1',
  11: 'Segmentation fault',
  12: 'User defined signal 2',
  13: 'Broken pipe',
  14: 'Alarm clock',
  15: 'Terminated',
  16: 'Stack fault',
  17: 'Child exited',
  18: 'Continued',
  19: 'Stopped (signal)',
  20: 'Stopped',
  21: 'Stopped (tty input)',
  22: 'Stopped (tty output)',
  23: 'Urgent I/O condition',
  24: 'CPU time limit exceeded',
  25: 'File size limit exceeded',
  26: 'Virtual timer expired',
  27: 'Profiling timer expired',
  28: 'Window changed',
  29: 'I/O possible',
  30: 'Power failure',
  31: 'Bad system call',
};

/** strsignal(3)-like text: 'Terminated' for 15. */
export function signalDescription(sig: number): string {
  return descriptions[sig] ?? `Real-time signal ${sig - 34}`;
}

let errorMap: Map<number, [string, string]> | undefined;

/** strerror-like text for a positive errno: 'ENOENT: no such file or directory'. */
export function errnoMessage(errno: number): string {
  errorMap ??= getSystemErrorMap();
  const e = errorMap.get(-errno);
  return e ? `${e[0]}: ${e[1]}` : `errno ${errno}`;
}

/** errno number for a Node error code ('ENOENT' -> 2), 0 when unknown. */
export function errnoOfCode(code: string | undefined): number {
  if (!code) return 0;
  return (constants.errno as Record<string, number>)[code] ?? 0;
}

const stageText: Record<LaunchFailureStage, string> = {
  spawn: 'cannot create the process',
  exec: 'cannot execute',
  cwd: 'cannot change to the working directory',
  stdio: 'cannot open a stdio file',
  capture: 'cannot create a capture file',
  limits: 'cannot set resource limits or CPU affinity',
  request: 'invalid launch request',
};

export function launchFailure(errno: number, stage: LaunchFailureStage, what: string): LaunchStatus {
  return {
    kind: 'launch-failure',
    errno,
    stage,
    message: `${stageText[stage]}${what ? ` ${what}` : ''}: ${errnoMessage(errno)}`,
  };
}

/** Decodes a raw wait status (exit or signal; a stopped status is reported as its signal). */
export function decodeWaitStatus(raw: number): LaunchStatus {
  const p = waitStatusParts(raw);
  if (!p.signal) return { kind: 'exit', code: p.exitCode };
  return { kind: 'signal', signal: p.signal, name: signalName(p.signal), core: p.core };
}

/** Raw wait status for an exit code or a signal (the node launcher gets these from child_process). */
export const encodeWaitStatus = waitStatusOf;
