import type { ParsedInvocation } from '@pegasus-ts/kickstart/record-reader';
import type { IngestContext } from './ingest-context.js';

/** bytes of a failed record's stdout/stderr kept (its end) */
const TAIL_BYTES = 16384;

function tail(s: string | null): string | null {
  if (s === null) return null;
  return s.length > TAIL_BYTES ? s.slice(s.length - TAIL_BYTES) : s;
}

/** host_id of (site, hostname, ip), cached; null for a record naming no host. */
function hostId(
  cx: IngestContext,
  site: string | null,
  hostname: string | null,
  ip: string | null,
): number | null {
  if (hostname === null && ip === null) return null;
  // records come in runs from the same host: compare with the last one before building a key
  const last = cx.lastHost;
  if (last !== undefined && last[0] === site && last[1] === hostname && last[2] === ip) return last[3];
  const key = `${site}\0${hostname}\0${ip}`;
  let id = cx.hostIds.get(key);
  if (id === undefined) {
    id = (cx.st.host.get(site ?? '', hostname ?? '', ip ?? '') as { host_id: number }).host_id;
    cx.hostIds.set(key, id);
  }
  cx.lastHost = [site, hostname, ip, id];
  return id;
}

/**
 * Inserts one invocation record (a job's kickstart record or a cluster's task record) of an
 * attempt; returns its host_id.
 */
export function insertRecord(
  cx: IngestContext,
  r: ParsedInvocation,
  instance: number,
  seq: number,
  taskId: number | null,
  site: string | null,
  file: string,
  byteOffset: number,
): number | null {
  const host = hostId(cx, site ?? r.resource, r.hostname, r.hostaddr);
  const failed = r.raw !== 0;
  const avgCpu = r.cpu !== null && r.duration > 0 ? r.cpu / r.duration : null;
  if (!failed && taskId !== null) {
    // A successful task: its command is in the task table, no output is kept, its record file
    // is its job's (record_file NULL, record_offset kept); a statement with fewer parameters
    // (most of a million records take this path).
    cx.st.insertTaskInvocation.run(
      instance,
      seq,
      taskId,
      r.start,
      r.duration,
      r.cpu,
      r.exitCode,
      r.transformation,
      r.maxrss,
      avgCpu,
      host,
      byteOffset,
    );
    return host;
  }
  // A failure, or a record with no task to look its command up in: keep the command, the
  // work dir and for a failure the tail of its output.
  cx.st.insertInvocation.run(
    instance,
    seq,
    taskId,
    r.start,
    r.duration,
    r.cpu,
    r.raw,
    r.exitCode,
    r.signal,
    r.transformation,
    r.executable,
    r.argv,
    r.derivation,
    r.maxrss,
    avgCpu,
    host,
    r.cwd,
    failed ? tail(r.stdout) : null,
    failed ? tail(r.stderr) : null,
    file,
    byteOffset,
  );
  return host;
}
