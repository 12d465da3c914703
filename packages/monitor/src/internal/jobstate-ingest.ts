import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readRange } from '@pegasus-ts/io';
import {
  FINAL_EVENTS,
  JOBSTATE_LOG,
  type JobEventLine,
  parseJobstateLine,
  type WorkflowEvent,
} from '@pegasus-ts/model';
import type { IngestStats } from '../ingest-stats.js';
import { rawStatus } from '../raw-status.js';
import { type IngestContext, yieldLoop } from './ingest-context.js';
import { offsetOf, shrunkFile } from './offsets.js';

const JOBSTATE = JOBSTATE_LOG;

/**
 * jobstate.log from its committed offset up to its last complete line, chunkBytes per
 * transaction: a job_instance per (job, seq), a jobstate row per line, the instance's and the
 * job's state; DAGMAN_STARTED/FINISHED lines become workflowstate rows.
 */
export async function ingestJobstate(cx: IngestContext, stats: IngestStats): Promise<void> {
  const path = join(cx.submitDir, JOBSTATE);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return;
  }
  const db = cx.db;
  let want = cx.chunk;
  for (;;) {
    const off0 = offsetOf(cx.st, JOBSTATE);
    if (off0 >= size) {
      if (off0 > size) {
        throw shrunkFile(path, size, off0, cx.submitDir, 'it was rewritten: ');
      }
      return;
    }
    let more = false;
    db.exec('BEGIN IMMEDIATE');
    try {
      cx.jobIds.clear(); // another writer may have added jobs
      const off = offsetOf(cx.st, JOBSTATE);
      const buf = readRange(path, off, want);
      const last = buf.lastIndexOf(10);
      if (last < 0 && buf.length === want) {
        // a line longer than the chunk: read more at once
        want *= 2;
        more = true;
      }
      if (last >= 0) {
        const text = buf.toString('utf8', 0, last + 1);
        let p = 0;
        while (p < text.length) {
          const nl = text.indexOf('\n', p);
          const line = text.slice(p, nl);
          p = nl + 1;
          const ev = parseJobstateLine(line);
          if (ev === undefined) {
            if (line.trim() !== '') stats.badLines++;
            continue;
          }
          if (ev.kind === 'workflow') applyWorkflow(cx, ev);
          else applyJob(cx, ev);
          stats.jobstateLines++;
        }
        cx.st.setOffset.run(JOBSTATE, off + last + 1, 0);
        stats.bytes += last + 1;
        more = buf.length === want;
        want = cx.chunk;
      }
      db.exec('COMMIT');
    } catch (err) {
      cx.rollback();
      throw err;
    }
    if (!more) return;
    await yieldLoop();
  }
}

/** job_id of a job name (cached); a job not in the plan gets a row. */
function jobIdOf(cx: IngestContext, name: string): number {
  let id = cx.jobIds.get(name);
  if (id !== undefined) return id;
  const row = cx.st.jobId.get(name) as { job_id: number } | undefined;
  if (row) id = row.job_id;
  else {
    // not in the plan (an engine-internal job): keep its events anyway
    id = Number(
      cx.st.insertJob.run(name, 'unknown', null, 0, 0, null, null, '[]', 0, null, null, 1).lastInsertRowid,
    );
  }
  if (cx.jobIds.size > 200_000) cx.jobIds.clear();
  cx.jobIds.set(name, id);
  return id;
}

function applyWorkflow(cx: IngestContext, ev: WorkflowEvent): void {
  if (ev.event === 'DAGMAN_STARTED') cx.st.insertWfState.run('WORKFLOW_STARTED', ev.time, -1, null, ev.value);
  else if (ev.event === 'DAGMAN_FINISHED') {
    cx.st.insertWfState.run('WORKFLOW_TERMINATED', ev.time, 0, ev.value ?? -1, null);
    // as the engine does: an engine end resets the failure counts (a rescue run gets its retries back)
    cx.st.resetFailures.run();
  }
}

function applyJob(cx: IngestContext, ev: JobEventLine): void {
  const jobId = jobIdOf(cx, ev.job);
  const inst = (cx.st.instance.get(jobId, ev.seq, jobId) as { job_instance_id: number }).job_instance_id;
  cx.st.insertJobstate.run(inst, ev.event, ev.time, ev.seq);
  const site = ev.site !== '-' ? ev.site : null;
  let sched: string | null = null;
  let submit: number | null = null;
  let execute: number | null = null;
  let exitcode: number | null = null;
  let duration: number | null = null;
  let end: number | null = null;
  const final = FINAL_EVENTS[ev.event] ?? null;
  switch (ev.event) {
    case 'SUBMIT':
      submit = ev.time;
      break;
    case 'GRID_SUBMIT':
      sched = ev.field4 !== '-' ? ev.field4 : null;
      break;
    case 'EXECUTE':
      sched = ev.field4 !== '-' ? ev.field4 : null;
      execute = ev.time;
      break;
    case 'JOB_SUCCESS':
    case 'JOB_FAILURE':
    case 'JOB_ABORTED':
    case 'JOB_EVICTED': {
      // exit code and the duration the engine observed ('-' when it does not know)
      const code = ev.field4 === '-' ? Number.NaN : Number(ev.field4);
      if (Number.isInteger(code)) exitcode = rawStatus(code);
      else if (ev.event === 'JOB_SUCCESS' || ev.event === 'JOB_FAILURE') exitcode = -1;
      const d = ev.field6 === '-' ? Number.NaN : Number(ev.field6);
      duration = Number.isFinite(d) && d >= 0 ? d : null;
      end = ev.time;
      break;
    }
    case 'JOB_TERMINATED':
      end = ev.time;
      break;
    default:
      if (final) end = ev.time;
  }
  cx.st.updateInstance.run(
    ev.event,
    ev.time,
    site,
    sched,
    submit,
    execute,
    exitcode,
    duration,
    end,
    final,
    inst,
  );
  cx.st.updateJobState.run(ev.seq, ev.event, ev.time, jobId, ev.seq);
  if (final === 'failure') cx.st.addFailure.run(jobId);
}
