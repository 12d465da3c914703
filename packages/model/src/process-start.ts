import { readFileSync } from 'node:fs';
import { procStat } from '@pegasus-ts/io';

/** How far apart two readings of one start time may be: /proc/stat's btime is whole seconds. */
const SLACK_MS = 2000;

let bootMs: number | undefined;

function bootTimeMs(): number | undefined {
  if (bootMs === undefined) {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    if (m) bootMs = Number(m[1]) * 1000;
  }
  return bootMs;
}

/**
 * When process `pid` started, in milliseconds since the epoch (to about a second: the kernel's
 * boot time is whole seconds), from /proc/PID/stat; undefined when the process is gone or
 * there is no /proc.
 */
export function processStartTime(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const stat = procStat(pid);
  if (stat === undefined) return undefined;
  const ticks = Number(stat.start);
  const boot = bootTimeMs();
  if (!Number.isFinite(ticks) || boot === undefined) return undefined;
  return boot + ticks * 10; // USER_HZ is 100 on every Linux
}

/**
 * Whether the live process `pid` can be the one that wrote a pid file (or a log line) at
 * `writtenMs`: it started no later than that. A process started after it merely reuses the pid
 * of one that is gone (pids wrap at /proc/sys/kernel/pid_max, often 32768, within minutes on a
 * busy machine). True when the start time cannot be read (no /proc): the caller's kill(0) decides.
 */
export function startedBefore(pid: number, writtenMs: number): boolean {
  const started = processStartTime(pid);
  return started === undefined || started <= writtenMs + SLACK_MS;
}
