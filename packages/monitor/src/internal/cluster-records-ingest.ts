import { type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRange } from '@pegasus-ts/io';
import { eachInvocation, parseInvocationRecord } from '@pegasus-ts/kickstart/record-reader';
import { INVOCATION_TASK_INDEX } from '../database.js';
import type { IngestStats } from '../ingest-stats.js';
import { type InstanceRow, instanceFor } from './attempt-match.js';
import { type IngestContext, yieldLoop } from './ingest-context.js';
import { offsetOf, shrunkFile } from './offsets.js';
import { insertRecord } from './record-insert.js';

/** a catch-up of more record bytes than this runs in bulk mode (see ingestClusterRecords) */
const BULK_BYTES = 64 << 20;

interface ClusterJobRow {
  job_id: number;
  site: string | null;
  exec_job_id: string;
  dag_file: string | null;
  first_task_id: number | null;
  task_count: number;
}

/**
 * clusters/JOB.dag.invocations.yml of every clustered job, from where the last pass stopped:
 * many small files share a transaction (up to chunkBytes read per transaction). A catch-up
 * of more than BULK_BYTES (a first pass over a big run) runs with synchronous=OFF and rarer
 * WAL checkpoints, then back to NORMAL with a checkpoint: a crash of the machine meanwhile may
 * lose the database, which is rebuilt from the files (a crash of the process loses nothing).
 */
export async function ingestClusterRecords(cx: IngestContext, stats: IngestStats): Promise<void> {
  const jobs = cx.st.clusterJobs.all() as ClusterJobRow[];
  const todo: { job: ClusterJobRow; rel: string; path: string; size: number; mtime: number }[] = [];
  let backlog = 0;
  for (const job of jobs) {
    const rel = `${job.dag_file ?? `clusters/${job.exec_job_id}.dag`}.invocations.yml`;
    const path = join(cx.submitDir, rel);
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    const off = offsetOf(cx.st, rel);
    if (off === st.size) continue;
    backlog += Math.max(0, st.size - off);
    todo.push({ job, rel, path, size: st.size, mtime: st.mtimeMs / 1000 });
  }
  if (todo.length === 0) return;
  const db = cx.db;
  const bulk = backlog > BULK_BYTES;
  // The covering index of the task statistics is built after the bulk of a first catch-up
  // (one sort instead of a million B-tree insertions); no tool needs it while it is missing.
  const deferIndex =
    bulk && (db.prepare('SELECT invocation_id FROM invocation LIMIT 1').get() as unknown) === undefined;
  if (bulk) {
    db.pragma('synchronous = OFF');
    db.pragma('wal_autocheckpoint = 16384');
    if (deferIndex) db.exec('DROP INDEX IF EXISTS invocation_task');
  }
  let open = false;
  let txBytes = 0;
  try {
    for (const f of todo) {
      const taskOf = taskResolver(cx, f.job);
      let want = cx.chunk;
      for (;;) {
        if (!open) {
          db.exec('BEGIN IMMEDIATE');
          open = true;
        }
        const r = ingestClusterChunk(cx, f.job, f.rel, f.path, f.size, f.mtime, want, taskOf, stats);
        txBytes += r.bytes;
        // a record longer than the chunk: read more at once
        want = r.bytes === 0 && r.more ? want * 2 : cx.chunk;
        if (txBytes >= cx.chunk) {
          db.exec('COMMIT');
          open = false;
          txBytes = 0;
          await yieldLoop();
        }
        if (!r.more) break;
      }
    }
    if (open) db.exec('COMMIT');
    open = false;
  } catch (err) {
    cx.rollback();
    throw err;
  } finally {
    if (bulk) {
      if (deferIndex) db.exec(INVOCATION_TASK_INDEX);
      db.pragma('synchronous = NORMAL');
      db.pragma('wal_autocheckpoint = 1000');
      db.pragma('wal_checkpoint(PASSIVE)');
    }
  }
}

/** derivation of a cluster task record (the `#@ N` number, or a task name) -> [task_id, N] */
function taskResolver(
  cx: IngestContext,
  job: ClusterJobRow,
): (derivation: string | null) => [number | null, number] {
  let byName: Map<string, [number, number]> | undefined;
  return (derivation) => {
    if (derivation === null || job.first_task_id === null) return [null, 0];
    const n = Number(derivation);
    if (Number.isInteger(n) && n >= 1 && n <= job.task_count && /^\d+$/.test(derivation)) {
      return [job.first_task_id + n - 1, n];
    }
    if (!byName) {
      byName = new Map();
      const rows = cx.st.tasksOf.all(job.first_task_id, job.first_task_id + job.task_count - 1) as {
        task_id: number;
        task_index: number;
        name: string;
        abs_task_id: string;
      }[];
      for (const t of rows) {
        byName.set(t.name, [t.task_id, t.task_index]);
        if (!byName.has(t.abs_task_id)) byName.set(t.abs_task_id, [t.task_id, t.task_index]);
      }
    }
    return byName.get(derivation) ?? [null, 0];
  };
}

/** Reads one chunk of a cluster's record file inside the open transaction. */
function ingestClusterChunk(
  cx: IngestContext,
  job: ClusterJobRow,
  rel: string,
  path: string,
  size: number,
  mtime: number,
  want: number,
  taskOf: (derivation: string | null) => [number | null, number],
  stats: IngestStats,
): { bytes: number; more: boolean } {
  const off = offsetOf(cx.st, rel);
  if (off > size) {
    throw shrunkFile(path, size, off, cx.submitDir);
  }
  if (off === size) return { bytes: 0, more: false }; // another ingester read it meanwhile
  const buf = readRange(path, off, want);
  const atEnd = off + buf.length >= size && buf.length < want;
  const instances = cx.st.instancesOf.all(job.job_id) as InstanceRow[];
  const latest = instances[instances.length - 1];
  const writerDone =
    latest === undefined
      ? Date.now() / 1000 - mtime > cx.quiet
      : latest.final !== null ||
        latest.state === 'JOB_TERMINATED' ||
        latest.state === 'JOB_SUCCESS' ||
        latest.state === 'JOB_FAILURE' ||
        Date.now() / 1000 - mtime > cx.quiet;
  // Cut at the last record boundary in the bytes (never inside a UTF-8 sequence).
  let end = buf.length;
  if (!(atEnd && writerDone)) {
    const b = buf.lastIndexOf('\n- ');
    end = b >= 0 ? b + 1 : 0;
  }
  const text = buf.toString('utf8', 0, end);
  const ascii = text.length === end;
  let byteAt = 0;
  let charAt = 0;
  const bytesTo = (c: number): number => {
    if (ascii) return c;
    byteAt += Buffer.byteLength(text.slice(charAt, c));
    charAt = c;
    return byteAt;
  };
  let lastInstance = -1;
  const { consumed, bad } = eachInvocation(
    text,
    atEnd && writerDone,
    (lite, recordText) => {
      const inst = instanceFor(cx, job.job_id, instances, lite.start);
      const [taskId, index] = taskOf(lite.derivation);
      // a record of no known task keeps its command: read it again in full
      const r =
        taskId === null && lite.raw === 0 ? (parseInvocationRecord(recordText, lite.offset) ?? lite) : lite;
      const site = inst.site ?? job.site;
      const host = insertRecord(
        cx,
        r,
        inst.job_instance_id,
        index,
        taskId,
        site,
        rel,
        off + bytesTo(r.offset),
      );
      if (inst.job_instance_id !== lastInstance) {
        lastInstance = inst.job_instance_id;
        cx.st.instanceHost.run(host, r.cwd, inst.job_instance_id);
      }
      stats.records++;
    },
    true,
  ); // task records: a successful one's command is the task's (lite)
  stats.badRecords += bad;
  const consumedBytes = bytesTo(consumed);
  cx.st.setOffset.run(rel, off + consumedBytes, 0);
  stats.bytes += consumedBytes;
  return { bytes: consumedBytes, more: !atEnd };
}
