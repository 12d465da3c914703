import { closeSync, openSync, writeSync } from 'node:fs';
import { eachLine, LineReader } from '@pegasus-ts/io';
import { type JobEvent, jobstateJobLine, jobstateWorkflowLine, parseJobstateLine } from '@pegasus-ts/model';

export type { JobEvent };

/**
 * jobstate.log: one line per state change, `<epoch> <job> <EVENT> <field4> <site> <field6> <seq>`,
 * appended with one write(2) each, so a line is in the file the moment the call returns (a
 * kill -9 right after loses nothing). It is also the engine's journal: `readJobstate` rebuilds
 * where every job stands after a restart.
 */
export class JobstateLog {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o644);
  }

  job(
    job: string,
    event: JobEvent,
    field4: string | number,
    site: string,
    seq: number,
    field6: string | number = '-',
  ): void {
    this.line(jobstateJobLine(now(), job, event, field4, site, seq, field6));
  }

  started(pid: number): void {
    this.line(jobstateWorkflowLine(now(), 'DAGMAN_STARTED', pid));
  }

  finished(exitCode: number): void {
    this.line(jobstateWorkflowLine(now(), 'DAGMAN_FINISHED', exitCode));
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private line(s: string): void {
    writeSync(this.fd, s);
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Where one attempt of a job stood when the log ends. */
export interface AttemptState {
  seq: number;
  site: string;
  /** last event of the attempt */
  last: JobEvent;
  /** scheduler id: pid (local) or Slurm job id, from GRID_SUBMIT/EXECUTE */
  schedId?: string;
  /** the attempt ended (POST_SCRIPT_SUCCESS/FAILURE, JOB_EVICTED or JOB_ABORTED) */
  ended: boolean;
  ok: boolean;
  submitTime: number;
}

/** A job's history as the journal tells it. */
export interface JobHistory {
  /** highest seq seen */
  seq: number;
  /** failed attempts since the last DAGMAN_FINISHED (the retry budget used) */
  failures: number;
  /** the latest attempt */
  attempt?: AttemptState;
  succeeded: boolean;
}

export interface JobstateSummary {
  jobs: Map<string, JobHistory>;
  /** DAGMAN_STARTED lines so far (engine starts) */
  starts: number;
  /** the journal ends without DAGMAN_FINISHED after the last start: the engine was killed */
  crashed: boolean;
  /** the code of the last DAGMAN_FINISHED line (0 ok, 1 failed, 2 stopped); undefined before any */
  finishedCode?: number;
}

/**
 * Replays jobstate.log lines. A DAGMAN_FINISHED line (the engine ended: success, failure or
 * removal) resets every job's failure count, as a DAGMan rescue run does; after a crash the
 * counts carry on.
 */
export class JobstateReplay {
  private readonly jobs = new Map<string, JobHistory>();
  private starts = 0;
  private open = false;
  private finishedCode: number | undefined;

  line(line: string): void {
    const l = parseJobstateLine(line);
    if (!l) return;
    if (l.kind === 'workflow') {
      if (l.event === 'DAGMAN_STARTED') {
        this.starts++;
        this.open = true;
      } else if (l.event === 'DAGMAN_FINISHED') {
        this.open = false;
        this.finishedCode = l.value ?? undefined;
        for (const h of this.jobs.values()) h.failures = 0;
      }
      return;
    }
    const name = l.job;
    const event = l.event as JobEvent;
    const seq = l.seq;
    let h = this.jobs.get(name);
    if (!h) {
      h = { seq: 0, failures: 0, succeeded: false };
      this.jobs.set(name, h);
    }
    if (seq > h.seq) h.seq = seq;
    if (event === 'SUBMIT') {
      h.attempt = { seq, site: l.site, last: event, ended: false, ok: false, submitTime: l.time };
      return;
    }
    const a = h.attempt;
    if (!a || a.seq !== seq) return;
    a.last = event;
    switch (event) {
      case 'GRID_SUBMIT':
      case 'EXECUTE':
        if (l.field4 !== '-') a.schedId = l.field4;
        break;
      case 'POST_SCRIPT_SUCCESS':
        a.ended = true;
        a.ok = true;
        h.succeeded = true;
        break;
      case 'POST_SCRIPT_FAILURE':
        a.ended = true;
        h.failures++;
        break;
      case 'JOB_EVICTED':
      case 'JOB_ABORTED':
        a.ended = true;
        break;
      default:
        break;
    }
  }

  result(): JobstateSummary {
    return { jobs: this.jobs, starts: this.starts, crashed: this.open, finishedCode: this.finishedCode };
  }
}

/** Replays jobstate.log text; a torn last line (no newline) is ignored. */
export function replayJobstate(text: string): JobstateSummary {
  const r = new JobstateReplay();
  eachLine(text, (line) => r.line(line));
  return r.result();
}

/** Reads and replays `path` line by line (any size); a torn last line is ignored; a missing file is an empty journal. */
export function readJobstate(path: string): JobstateSummary {
  const r = new JobstateReplay();
  let reader: LineReader;
  try {
    reader = new LineReader(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return r.result();
    throw e;
  }
  try {
    for (let line = reader.next(); line !== undefined && !reader.partial; line = reader.next()) r.line(line);
  } finally {
    reader.close();
  }
  return r.result();
}
