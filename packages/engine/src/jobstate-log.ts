import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { eachLine } from './internal/lines.js';

/** The job events the engine writes (Pegasus's jobstate.log vocabulary). */
export type JobEvent =
  | 'SUBMIT'
  | 'GRID_SUBMIT'
  | 'EXECUTE'
  | 'JOB_TERMINATED'
  | 'JOB_SUCCESS'
  | 'JOB_FAILURE'
  | 'JOB_EVICTED'
  | 'JOB_ABORTED'
  | 'POST_SCRIPT_STARTED'
  | 'POST_SCRIPT_TERMINATED'
  | 'POST_SCRIPT_SUCCESS'
  | 'POST_SCRIPT_FAILURE';

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
    this.line(`${now()} ${job} ${event} ${field4} ${site} ${field6} ${seq}\n`);
  }

  started(pid: number): void {
    this.line(`${now()} INTERNAL *** DAGMAN_STARTED ${pid} ***\n`);
  }

  finished(exitCode: number): void {
    this.line(`${now()} INTERNAL *** DAGMAN_FINISHED ${exitCode} ***\n`);
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
    if (line.length === 0) return;
    const f = line.split(' ');
    if (f[1] === 'INTERNAL') {
      if (f[3] === 'DAGMAN_STARTED') {
        this.starts++;
        this.open = true;
      } else if (f[3] === 'DAGMAN_FINISHED') {
        this.open = false;
        this.finishedCode = Number(f[4]);
        for (const h of this.jobs.values()) h.failures = 0;
      }
      return;
    }
    if (f.length < 7) return;
    const name = f[1];
    const event = f[2] as JobEvent;
    const seq = Number(f[6]);
    let h = this.jobs.get(name);
    if (!h) {
      h = { seq: 0, failures: 0, succeeded: false };
      this.jobs.set(name, h);
    }
    if (seq > h.seq) h.seq = seq;
    if (event === 'SUBMIT') {
      h.attempt = { seq, site: f[4], last: event, ended: false, ok: false, submitTime: Number(f[0]) };
      return;
    }
    const a = h.attempt;
    if (!a || a.seq !== seq) return;
    a.last = event;
    switch (event) {
      case 'GRID_SUBMIT':
      case 'EXECUTE':
        if (f[3] !== '-') a.schedId = f[3];
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

/** Reads and replays `path` in 4 MB pieces (any size); a missing file is an empty journal. */
export function readJobstate(path: string): JobstateSummary {
  const r = new JobstateReplay();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return r.result();
    throw e;
  }
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = rest + decoder.write(buf.subarray(0, n));
      rest = text.slice(eachLine(text, (line) => r.line(line)));
    }
  } finally {
    closeSync(fd);
  }
  return r.result();
}
