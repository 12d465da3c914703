import { BufferedWriter } from '@pegasus-ts/io';
import type { ClusterOptions } from './cluster-options.js';
import { formatClusterTask } from './cluster-records.js';
import type { Dag } from './dag.js';
import { UserError } from './errors.js';
import { DagmanLog, JobstateLog } from './jobstate-log.js';
import type { TaskResult } from './protocol.js';
import { RescueLog } from './rescue-log.js';
import { ResourceLog } from './resource-log.js';
import type { HostState } from './scheduler.js';
import { TaskOutput } from './task-output.js';

/** The jobstate and dagman logs share one shape. */
type StateLog = Pick<JobstateLog, 'submit' | 'execute' | 'terminated' | 'finished' | 'flush' | 'close'>;

/**
 * Every file the master writes during a run, behind one object: merged task output, the
 * invocation records file, forwarded data, the rescue log, and the optional jobstate,
 * dagman and resource logs. `flush()` writes everything buffered with the rescue log LAST,
 * so a task recorded DONE always has its output and record on disk.
 */
export class RunOutputs {
  readonly jobstate:
    | { submit(name: string, id: number): void; execute(name: string, id: number): void }
    | undefined;
  readonly resource: { host(h: HostState): void } | undefined;
  private readonly seq: Int32Array;
  private nextSeq = 1;
  private readonly stateLogs: StateLog[];

  private constructor(
    private readonly options: ClusterOptions,
    readonly rescue: RescueLog,
    private readonly output: TaskOutput,
    private readonly invocations: BufferedWriter,
    stateLogs: StateLog[],
    private readonly resourceLog: ResourceLog | undefined,
    dagSize: number,
  ) {
    this.stateLogs = stateLogs;
    this.seq = new Int32Array(dagSize);
    if (stateLogs.length > 0) {
      this.jobstate = {
        submit: (name, id) => {
          const seq = this.nextSeq++;
          this.seq[id] = seq;
          for (const l of stateLogs) l.submit(name, seq);
        },
        execute: (name, id) => {
          for (const l of stateLogs) l.execute(name, this.seq[id]);
        },
      };
    }
    if (resourceLog) {
      this.resource = {
        host: (h) => {
          let slots = 0;
          for (const w of h.workers) if (w.outstanding.size === 0) slots++;
          resourceLog.record(slots, h.freeCpus, h.freeMemory, h.name);
        },
      };
    }
  }

  static async open(options: ClusterOptions, dag: Dag, done: Uint8Array): Promise<RunOutputs> {
    const opened: Array<{ close(): void }> = [];
    const open = <T extends { close(): void }>(what: string, path: string, f: () => T): T => {
      try {
        const x = f();
        opened.push(x);
        return x;
      } catch (e) {
        for (const o of opened) o.close();
        if (e instanceof UserError) throw e;
        throw new UserError(`cannot open ${what} ${path}: ${(e as Error).message}`);
      }
    };
    const output = open(
      'task output',
      `${options.stdout} / ${options.stderr}`,
      () =>
        new TaskOutput({
          dagFile: options.dagFile,
          stdout: options.stdout,
          stderr: options.stderr,
          perTaskStdio: options.perTaskStdio,
          maxfds: options.maxfds,
          // A resumed run keeps the output of the tasks an earlier run finished.
          append: done.some((x) => x !== 0),
        }),
    );
    const invocations = open('invocation records file', options.invocations, () =>
      BufferedWriter.append(options.invocations),
    );
    const stateLogs: StateLog[] = [];
    if (options.jobstateLog) {
      const path = JobstateLog.pathFor(options.dagFile);
      stateLogs.push(open('jobstate log', path, () => JobstateLog.open(options.dagFile)));
    }
    if (options.monitordHack) {
      const path = DagmanLog.pathFor(options.dagFile);
      stateLogs.push(open('dagman log', path, () => DagmanLog.open(options.dagFile)));
    }
    const resourceLog = options.resourceLog
      ? open('resource log', ResourceLog.pathFor(options.dagFile), () => ResourceLog.open(options.dagFile))
      : undefined;
    let rescue: RescueLog;
    try {
      rescue = await RescueLog.open(options.rescue, dag, done);
    } catch (e) {
      for (const o of opened) o.close();
      throw e;
    }
    const outputs = new RunOutputs(options, rescue, output, invocations, stateLogs, resourceLog, dag.size);
    if (options.jobstateLog) (stateLogs[0] as JobstateLog).started();
    return outputs;
  }

  /** A worker joined (PMC's per-worker output files are created for it). */
  workerJoined(rank: number): void {
    this.output.addWorker(rank);
  }

  /** One attempt ended: its output, cluster-task record, invocation record, forwards, state. */
  taskFinished(dag: Dag, r: TaskResult, rank: number, ok: boolean, hostname: string): void {
    const id = r.id;
    const status = r.raw;
    if (!this.options.perTaskStdio) {
      const record = formatClusterTask({
        id: dag.pegasusId(id),
        name: dag.names[id],
        start: r.start,
        duration: r.duration,
        status,
        app: dag.argv[id][0],
        hostname,
        slot: rank,
        cpus: dag.cpus[id],
        memory: dag.memory[id],
      });
      this.output.addAttempt(dag.names[id], rank, r.stdout, r.stderr, record);
    }
    if (r.record) this.invocations.write(r.record);
    if (ok && r.forwards) {
      for (const [path, data] of r.forwards) this.output.appendForward(path, data);
    }
    for (const l of this.stateLogs) l.terminated(dag.names[id], this.seq[id], status);
  }

  /** The `[cluster-summary ...]` line: always on the master's own stdout, as PMC does. */
  summary(line: string): void {
    this.flush();
    process.stdout.write(`${line}\n`);
  }

  /** Writes everything buffered; the rescue log last. */
  flush(): void {
    this.output.flush();
    this.invocations.flush();
    for (const l of this.stateLogs) l.flush();
    this.resourceLog?.flush();
    this.rescue.flush();
  }

  close(ok?: boolean): void {
    if (ok !== undefined) for (const l of this.stateLogs) l.finished(ok);
    this.flush();
    this.output.close();
    this.invocations.close();
    for (const l of this.stateLogs) l.close();
    this.resourceLog?.close();
    this.rescue.close();
  }
}
