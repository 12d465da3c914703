/**
 * The `[cluster-task ...]` and `[cluster-summary ...]` records PMC writes for Pegasus
 * (monitord reads them): one per task attempt, one per run.
 */

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `2024-05-06T07:08:09.123+02:00`: local time with milliseconds and the UTC offset. */
export function isoLocal(t: Date | number): string {
  const d = typeof t === 'number' ? new Date(t) : t;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
  );
}

export interface ClusterTaskRecord {
  /** The task's `#@` id; the `id=` part is left out without one. */
  id?: string;
  name: string;
  /** Start time (Date or epoch ms). */
  start: Date | number;
  /** Seconds. */
  duration: number;
  /** Raw wait status (exit 1 = 256). */
  status: number;
  /** argv[0] as written in the DAG. */
  app: string;
  hostname: string;
  /** The worker's rank. */
  slot: number;
  cpus: number;
  memory: number;
}

/** `[cluster-task id=..., name=..., start="...", duration=%.3f, status=..., app="...", hostname="...", slot=..., cpus=..., memory=...]` (no newline). */
export function formatClusterTask(r: ClusterTaskRecord): string {
  const id = r.id !== undefined && r.id !== '' ? `id=${r.id}, ` : '';
  return (
    `[cluster-task ${id}name=${r.name}, start="${isoLocal(r.start)}", duration=${r.duration.toFixed(3)}, ` +
    `status=${r.status}, app="${r.app}", hostname="${r.hostname}", slot=${r.slot}, cpus=${r.cpus}, memory=${r.memory}]`
  );
}

export interface ClusterSummaryRecord {
  ok: boolean;
  /** Tasks in the DAG. */
  tasks: number;
  /** Attempts started, retries included. */
  submitted: number;
  /** Successful attempts. */
  succeeded: number;
  /** Failed attempts, retried ones included. */
  failed: number;
  start: Date | number;
  /** Wall time of the run in seconds. */
  duration: number;
  pid: number;
  app: string;
  /** Sum of the task runtimes in seconds. */
  runtime: number;
  /** Number of workers. */
  slots: number;
  /** Default 0, as PMC always writes (its counter is never updated). */
  cpus?: number;
}

/** `[cluster-summary stat="ok"|"failed", tasks=..., submitted=..., ...]` (no newline). */
export function formatClusterSummary(r: ClusterSummaryRecord): string {
  return (
    `[cluster-summary stat="${r.ok ? 'ok' : 'failed'}", tasks=${r.tasks}, submitted=${r.submitted}, ` +
    `succeeded=${r.succeeded}, failed=${r.failed}, extra=0, start="${isoLocal(r.start)}", ` +
    `duration=${r.duration.toFixed(3)}, pid=${r.pid}, app="${r.app}", runtime=${r.runtime.toFixed(3)}, ` +
    `slots=${r.slots}, cpus=${r.cpus ?? 0}]`
  );
}
