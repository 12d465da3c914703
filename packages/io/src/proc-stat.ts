import { readFileSync } from 'node:fs';

/** What `/proc/PID/stat` says of a process: its state letter and start time. */
export interface ProcStat {
  /** R running, S sleeping, T stopped (SIGSTOP), Z zombie, ... */
  state: string;
  /** start time in clock ticks after boot (tells a reused pid from the process meant) */
  start: string;
}

/** Reads `/proc/PID/stat`; undefined when the process is gone or there is no /proc. */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // after "pid (comm) ": state is field 3, starttime field 22 (comm may hold spaces and parentheses)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], start: fields[19] };
}
