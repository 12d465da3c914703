import { readdirSync, readFileSync } from 'node:fs';

/** The command line of process `pid` (NUL-separated), or undefined when it is gone or a zombie. */
export function commandLineOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether process `pid` lives and its command line contains `marker` (guards against pid reuse). */
export function isRunning(pid: number, marker: string): boolean {
  const cmd = commandLineOf(pid);
  return cmd?.includes(marker) === true;
}

/** The pids of live processes whose command line contains `marker`. */
export function findProcesses(marker: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    if (isRunning(pid, marker)) found.push(pid);
  }
  return found;
}

/** Whether `pid` is alive at all (kill 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
