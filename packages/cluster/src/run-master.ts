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
  const dagFile = options.dagFile;
  log.info(`Loaded ${dagFile}: ${dag.size} tasks, ${dag.edgeCount} edges in ${loadSeconds.toFixed(3)} s`);
  const lock = options.lock ? DagLock.acquire(dagFile) : undefined;
  const cleanups: Array<() => void> = [() => lock?.release()];
  let outputs: RunOutputs | undefined;
  let comm: MasterCommunicator | undefined;
  const children: ChildProcess[] = [];
  let registered: ((pid: number) => boolean) | undefined;
  let runOk: boolean | undefined;
  // From here on a signal must not kill the master outright (the lock, the outputs, spawned
  // workers): one that comes before the master exists is kept and handed to it.
  let early: NodeJS.Signals | undefined;
  const onEarlySignal = (signal: NodeJS.Signals) => {
    early ??= signal;
  };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);
  cleanups.push(() => {
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
  });
  try {
    outputs = await RunOutputs.open(options, dag, done);
    const local = mpi === undefined && options.bind === undefined;
    let endpoint = '';
    let secret: Buffer | undefined;
    const host = detectHost();
    let expectedWorkers: number;
    if (mpi) {
      comm = mpi;
      expectedWorkers = mpi.worldSize - 1;
      log.info(
        `Using transport mpi (${mpi.library}, ${mpi.worldSize} ranks: master + ${expectedWorkers} worker(s), thread level ${mpi.threadLevel})`,
      );
    } else {
      let url: string;
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
      comm = zmq;
      endpoint = zmq.endpoint;
      const why = local ? 'local workers' : 'workers connect over tcp';
      log.info(`Using transport zmq (${why}) on ${endpoint}`);
      expectedWorkers = options.workers ?? (local ? Math.max(1, host.cpus) : 1);
      if (!local) {
        log.info(
          `Waiting for ${expectedWorkers} worker(s): pegasus-ts mpi-cluster --worker --connect ${endpoint}${options.secretFile ? ` --secret-file ${options.secretFile}` : ''}`,
        );
      }
    }
    const workerConfig: WorkerConfig = {
      perTaskStdio: options.perTaskStdio,
      dagDir: path.dirname(path.resolve(dagFile)),
      strictLimits: options.strictLimits,
      setAffinity: options.setAffinity,
      noop: options.noop,
      captureLimit: CAPTURE_LIMIT,
      env: {},
    };
    if (options.hostScript) workerConfig.hostScript = options.hostScript;
    const master = new Master({
      dag,
      done,
      options,
      comm,
      outputs,
      log,
      workerConfig,
      expectedWorkers,
      startedAt,
    });
    const masterComm = comm;
    registered = (pid) => master.rankOfPid(pid) !== undefined;
    // (a stop that came first leaves nothing to start workers for)
    if (local && master.hasWork && early === undefined) {
      for (let i = 0; i < expectedWorkers; i++) {
        const child = spawn(process.execPath, [WORKER_MAIN, endpoint], {
          stdio: ['pipe', 'inherit', 'inherit'],
          env: { ...process.env, ...secretEnv(secret!), PEGASUS_TS_VERBOSITY: String(options.verbosity) },
        });
        children.push(child);
        child.on('exit', (code, signal) => {
          const rank = master.rankOfPid(child.pid ?? -1);
          if (rank !== undefined && !master.ended) {
            masterComm.markLost(rank, `its process exited (${signal ?? `code ${code}`})`);
          }
        });
      }
    }
    const onSignal = (signal: NodeJS.Signals) => master.stop({ signal, reason: `Caught signal ${signal}` });
    // Add before removing: a signal's listener count dropping to 0 stops Node's watcher, and a
    // signal delivered in that moment would be lost.
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
    if (early) onSignal(early);
    cleanups.push(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
    const { exitCode, scheduler: s } = await master.run();
    runOk = exitCode === EXIT.ok;
    outputs.flush();
    const wall = (Date.now() - startedAt) / 1000;
    outputs.summary(
      formatClusterSummary({
        ok: exitCode === EXIT.ok,
        tasks: dag.size,
        submitted: s.submitted,
        succeeded: s.succeededAttempts,
        failed: s.failedAttempts,
        start: startedAt,
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
    log.info(`Load time: ${loadSeconds.toFixed(3)} s`);
    log.info(`Makespan: ${makespan.toFixed(3)} s (first task sent to last result)`);
    log.info(`Throughput: ${(makespan > 0 ? s.succeededAttempts / makespan : 0).toFixed(1)} tasks/s`);
    log.info(`Peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
    return exitCode;
  } finally {
    outputs?.close(runOk);
    await comm?.close();
    await stopChildren(children, (pid) => registered?.(pid) ?? false);
    for (const c of cleanups.reverse()) c();
  }
}

/**
 * Local workers leave by themselves once they get 'shutdown'. One that has not after 2 s has
 * its stdin closed (it then kills its tasks and exits), and is killed 3 s later. One that never
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
          const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(nudge);
            clearTimeout(kill);
            resolve();
          });
        }),
    ),
  );
}
