import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecret, SECRET_ENV, secretEnv, secretFromEnv } from './auth.js';
import type { ClusterOptions } from './cluster-options.js';
import { formatClusterSummary } from './cluster-records.js';
import type { MasterCommunicator } from './communicator.js';
import type { Dag } from './dag.js';
import { loadDag } from './dag-file.js';
import { DagLock } from './dag-lock.js';
import { UserError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { detectHost } from './host-info.js';
import type { Logger } from './log.js';
import { Master } from './master.js';
import type { WorkerConfig } from './protocol.js';
import { readRescue } from './rescue-log.js';
import { RunOutputs } from './run-outputs.js';
import type { Scheduler } from './scheduler.js';
import type { MpiMasterCommunicator } from './transports/mpi-communicator.js';

/** Bytes of a task's stdout (and of its stderr) sent to the master; the tail is kept. */
const CAPTURE_LIMIT = 64 * 1024 * 1024;

/** The worker entry script spawned for local workers. */
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/** The DAG and what its rescue log says is done: what the master reads first. */
export interface MasterInputs {
  dag: Dag;
  done: Uint8Array;
  /** Epoch ms when the run started (reading began). */
  startedAt: number;
  loadSeconds: number;
}

/** Reads the DAG and its rescue log (under MPI, rank 0 does it while MPI initialises). */
export async function loadMasterInputs(options: ClusterOptions): Promise<MasterInputs> {
  const startedAt = Date.now();
  const dag = await loadDag(options.dagFile, { defaultTries: options.tries });
  const done = options.skipRescue ? new Uint8Array(dag.size) : await readRescue(options.rescue, dag);
  return { dag, done, startedAt, loadSeconds: (Date.now() - startedAt) / 1000 };
}

/**
 * The master; over ZeroMQ (binding, spawning local workers) unless given an MPI communicator.
 * `inputs`: the DAG when its reading has already begun (else it is read here).
 */
export async function runMaster(
  options: ClusterOptions,
  log: Logger,
  mpi?: MpiMasterCommunicator,
  inputs?: Promise<MasterInputs>,
): Promise<number> {
  const { dag, done, startedAt, loadSeconds } = await (inputs ?? loadMasterInputs(options));
  log.info(
    `Loaded ${options.dagFile}: ${dag.size} tasks, ${dag.edgeCount} edges in ${loadSeconds.toFixed(3)} s`,
  );
  const lock = options.lock ? DagLock.acquire(options.dagFile) : undefined;
  const cleanups: Array<() => void> = [() => lock?.release()];
  let outputs: RunOutputs | undefined;
  let transport: MasterTransport | undefined;
  const children: ChildProcess[] = [];
  let registered: ((pid: number) => boolean) | undefined;
  let runOk: boolean | undefined;
  const signals = new SignalRelay();
  cleanups.push(() => signals.remove());
  try {
    outputs = await RunOutputs.open(options, dag, done);
    transport = await openTransport(options, log, mpi, cleanups);
    const master = new Master({
      dag,
      done,
      options,
      comm: transport.comm,
      outputs,
      log,
      workerConfig: workerConfigFor(options),
      expectedWorkers: transport.expectedWorkers,
      startedAt,
    });
    registered = (pid) => master.rankOfPid(pid) !== undefined;
    // (a stop that came first leaves nothing to start workers for)
    if (transport.local && master.hasWork && !signals.caughtEarly) {
      children.push(...spawnLocalWorkers(options, transport, master));
    }
    signals.handTo(master);
    const { exitCode, scheduler } = await master.run();
    runOk = exitCode === EXIT.ok;
    reportRun(log, outputs, master, scheduler, exitCode, { startedAt, loadSeconds });
    return exitCode;
  } finally {
    outputs?.close(runOk);
    await transport?.comm.close();
    await stopChildren(children, (pid) => registered?.(pid) ?? false);
    for (const c of cleanups.reverse()) c();
  }
}

/** The master's communicator and how its workers come. */
interface MasterTransport {
  comm: MasterCommunicator;
  /** Workers to wait for before the first dispatch. */
  expectedWorkers: number;
  /** ZeroMQ with workers spawned here (ipc://). */
  local: boolean;
  /** The ZeroMQ endpoint workers connect to ('' under MPI). */
  endpoint: string;
  /** The run's secret (ZeroMQ). */
  secret?: Buffer;
}

/**
 * MPI as given, else ZeroMQ: an ipc:// socket in a temporary directory (removed by a cleanup)
 * for local workers, or `--bind` for workers that connect with the run's secret.
 */
async function openTransport(
  options: ClusterOptions,
  log: Logger,
  mpi: MpiMasterCommunicator | undefined,
  cleanups: Array<() => void>,
): Promise<MasterTransport> {
  if (mpi) {
    const expectedWorkers = mpi.worldSize - 1;
    log.info(
      `Using transport mpi (${mpi.library}, ${mpi.worldSize} ranks: master + ${expectedWorkers} worker(s), thread level ${mpi.threadLevel})`,
    );
    return { comm: mpi, expectedWorkers, local: false, endpoint: '' };
  }
  const local = options.bind === undefined;
  let url: string;
  let secret: Buffer;
  if (local) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pegasus-ts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    url = `ipc://${dir}/master.sock`;
    secret = (await import('node:crypto')).randomBytes(32);
  } else {
    url = options.bind!;
    secret = options.secretFile
      ? await loadOrCreateSecret(options.secretFile)
      : (secretFromEnv() ??
        (() => {
          throw new UserError(
            `--bind needs --secret-file FILE (or ${SECRET_ENV}) so that workers can prove who they are`,
          );
        })());
  }
  const { bindMaster } = await import('./transports/zmq-communicator.js');
  const zmq = await bindMaster({
    url,
    secret,
    workerTimeoutMs: options.workerTimeout * 1000,
    log: (level, msg) => log.log(level, msg),
  });
  const endpoint = zmq.endpoint;
  log.info(`Using transport zmq (${local ? 'local workers' : 'workers connect over tcp'}) on ${endpoint}`);
  const expectedWorkers = options.workers ?? (local ? Math.max(1, detectHost().cpus) : 1);
  if (!local) {
    log.info(
      `Waiting for ${expectedWorkers} worker(s): pegasus-ts mpi-cluster --worker --connect ${endpoint}${options.secretFile ? ` --secret-file ${options.secretFile}` : ''}`,
    );
  }
  return { comm: zmq, expectedWorkers, local, endpoint, secret };
}

/** What every worker is told in its welcome. */
function workerConfigFor(options: ClusterOptions): WorkerConfig {
  const config: WorkerConfig = {
    perTaskStdio: options.perTaskStdio,
    dagDir: path.dirname(path.resolve(options.dagFile)),
    strictLimits: options.strictLimits,
    setAffinity: options.setAffinity,
    noop: options.noop,
    captureLimit: CAPTURE_LIMIT,
    env: {},
  };
  if (options.hostScript) config.hostScript = options.hostScript;
  return config;
}

/** Starts the local worker processes; one that exits while the run goes on is reported lost. */
function spawnLocalWorkers(
  options: ClusterOptions,
  transport: MasterTransport,
  master: Master,
): ChildProcess[] {
  const children: ChildProcess[] = [];
  for (let i = 0; i < transport.expectedWorkers; i++) {
    const child = spawn(process.execPath, [WORKER_MAIN, transport.endpoint], {
      stdio: ['pipe', 'inherit', 'inherit'],
      env: {
        ...process.env,
        ...secretEnv(transport.secret!),
        PEGASUS_TS_VERBOSITY: String(options.verbosity),
      },
    });
    children.push(child);
    child.on('exit', (code, signal) => {
      const rank = master.rankOfPid(child.pid ?? -1);
      if (rank !== undefined && !master.ended) {
        transport.comm.markLost(rank, `its process exited (${signal ?? `code ${code}`})`);
      }
    });
  }
  return children;
}

/**
 * SIGTERM/SIGINT from the moment the master's files are opened: one caught before the master
 * exists is kept (the lock, the outputs and spawned workers must be cleaned up, not dropped) and
 * handed to it; after that each one asks the master to stop.
 */
class SignalRelay {
  private early: NodeJS.Signals | undefined;
  private handler: (signal: NodeJS.Signals) => void;

  constructor() {
    this.handler = (signal) => {
      this.early ??= signal;
    };
    process.on('SIGTERM', this.handler);
    process.on('SIGINT', this.handler);
  }

  get caughtEarly(): boolean {
    return this.early !== undefined;
  }

  handTo(master: Master): void {
    const onSignal = (signal: NodeJS.Signals) => master.stop({ signal, reason: `Caught signal ${signal}` });
    // Add before removing: a signal's listener count dropping to 0 stops Node's watcher, and a
    // signal delivered in that moment would be lost.
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    this.remove();
    this.handler = onSignal;
    if (this.early) onSignal(this.early);
  }

  remove(): void {
    process.off('SIGTERM', this.handler);
    process.off('SIGINT', this.handler);
  }
}

/** The cluster-summary line (PMC's) and the statistics the master logs at the end. */
function reportRun(
  log: Logger,
  outputs: RunOutputs,
  master: Master,
  s: Scheduler,
  exitCode: number,
  times: { startedAt: number; loadSeconds: number },
): void {
  outputs.flush();
  const wall = (Date.now() - times.startedAt) / 1000;
  outputs.summary(
    formatClusterSummary({
      ok: exitCode === EXIT.ok,
      tasks: s.dag.size,
      submitted: s.submitted,
      succeeded: s.succeededAttempts,
      failed: s.failedAttempts,
      start: times.startedAt,
      duration: wall,
      pid: process.pid,
      app: 'pegasus-ts mpi-cluster',
      runtime: s.totalRuntime,
      slots: s.workers.size,
    }),
  );
  const makespan = master.makespan;
  const cpus = [...s.hosts.values()].reduce((a, h) => a + h.cpus, 0);
  log.info(`Total runtime of tasks: ${s.totalRuntime.toFixed(3)} s`);
  log.info(
    `Resource utilisation: ${(s.totalRuntime / Math.max(1e-9, makespan * Math.max(1, cpus))).toFixed(3)} (task runtime / makespan x ${cpus} cpus)`,
  );
  log.info(`Wall time: ${wall.toFixed(3)} s`);
  log.info(`Load time: ${times.loadSeconds.toFixed(3)} s`);
  log.info(`Makespan: ${makespan.toFixed(3)} s (first task sent to last result)`);
  log.info(`Throughput: ${(makespan > 0 ? s.succeededAttempts / makespan : 0).toFixed(1)} tasks/s`);
  log.info(`Peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
}

/**
 * Local workers leave by themselves once they get 'shutdown'. One that has not after 2 s has
 * its stdin closed (it then kills its tasks and exits), and is killed 6 s later (a host script's
 * leftovers get up to 5 s between SIGTERM and SIGKILL from the worker first). One that never
 * joined (the run was stopped while it started) has no tasks: it is killed at once.
 */
async function stopChildren(children: ChildProcess[], registered: (pid: number) => boolean): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          if (c.pid === undefined || !registered(c.pid)) c.kill('SIGKILL');
          const nudge = setTimeout(() => c.stdin?.end(), 2000);
          const kill = setTimeout(() => c.kill('SIGKILL'), 8000);
          c.once('exit', () => {
            clearTimeout(nudge);
            clearTimeout(kill);
            resolve();
          });
        }),
    ),
  );
}
