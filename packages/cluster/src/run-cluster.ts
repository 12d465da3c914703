import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MpiAddon } from '@pegasus-ts/native-mpi';
import { loadOrCreateSecret, SECRET_ENV, secretEnv, secretFromEnv } from './auth.js';
import type { ClusterOptions } from './cluster-options.js';
import { formatClusterSummary } from './cluster-records.js';
import type { MasterCommunicator } from './communicator.js';
import { loadDag } from './dag-file.js';
import { DagLock } from './dag-lock.js';
import { UserError } from './errors.js';
import { detectHost } from './host-info.js';
import { createLogger, type Logger } from './log.js';
import { EXIT, Master } from './master.js';
import type { WorkerConfig } from './protocol.js';
import { readRescue } from './rescue-log.js';
import { RunOutputs } from './run-outputs.js';
import { mpiLauncherMark, mpiLauncherSize } from './transports/internal/mpi-env.js';
import type { MpiMasterCommunicator, MpiWorkerCommunicator } from './transports/mpi-communicator.js';
import { bindMaster, connectWorker } from './transports/zmq-communicator.js';
import { Worker } from './worker.js';

/** Bytes of a task's stdout (and of its stderr) sent to the master; the tail is kept. */
const CAPTURE_LIMIT = 64 * 1024 * 1024;

/** The worker entry script spawned for local workers. */
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/**
 * `pegasus-ts mpi-cluster`: runs a DAG as master (spawning local workers, or waiting for
 * workers that connect over tcp), or runs one worker (`--worker --connect URL`).
 * Returns the exit code; user errors are thrown as UserError.
 */
export async function runCluster(options: ClusterOptions): Promise<number> {
  const log = createLogger(options.verbosity);
  if (options.worker)
    return runWorkerProcess({ connect: options.connect!, secretFile: options.secretFile, log });
  const mpi = await chooseTransport(options, log);
  if (mpi === undefined) return runMaster(options, log);
  return runMpiRank(options, log, mpi);
}

/**
 * --transport: 'zmq' always ZeroMQ; 'mpi' the MPI addon or a UserError saying why not; 'auto'
 * MPI when an MPI launcher started this process and the addon loads, else ZeroMQ. Returns the
 * loaded addon for MPI, undefined for ZeroMQ.
 */
async function chooseTransport(options: ClusterOptions, log: Logger): Promise<MpiAddon | undefined> {
  if (options.transport === 'zmq') return undefined;
  const mark = mpiLauncherMark(process.env);
  if (options.transport === 'auto' && mark === undefined) return undefined;
  const { loadMpi } = await import('./transports/mpi-communicator.js');
  const loaded = await loadMpi();
  if ('addon' in loaded) {
    if (mark === undefined) {
      log.warn(
        '--transport mpi: no MPI launcher variables found (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, ...); initialising MPI anyway',
      );
    }
    return loaded.addon;
  }
  if (options.transport === 'mpi') {
    throw new UserError(`--transport mpi: the MPI transport is unavailable: ${loaded.error}`);
  }
  const ranks = mpiLauncherSize(process.env);
  if (ranks !== undefined && ranks > 1) {
    // Falling back to ZeroMQ here would start one independent master per rank.
    throw new UserError(
      `started by an MPI launcher with ${ranks} ranks (${mark}) but the MPI transport is unavailable: ${loaded.error}; build native/mpi where an MPI compiler (mpicc) exists, or run a single process with --transport zmq`,
    );
  }
  log.warn(
    `started by an MPI launcher (${mark}) but the MPI transport is unavailable (${loaded.error}); using ZeroMQ`,
  );
  return undefined;
}

/**
 * One rank of an MPI job: rank 0 runs the master (the other ranks are its workers), the others
 * a worker. A lost rank leaves MPI unable to finalize: the job then ends with MPI_Abort, after
 * the master has written its files.
 */
async function runMpiRank(options: ClusterOptions, log: Logger, addon: MpiAddon): Promise<number> {
  const { openMpi } = await import('./transports/mpi-communicator.js');
  const host = detectHost();
  const comm = await openMpi({
    addon,
    info: { hostname: host.hostname, cpus: host.cpus, memory: host.memoryMb, pid: process.pid },
    timeoutMs: Math.max(2000, options.workerTimeout * 1000),
    log: (level, msg) => log.log(level, msg),
  });
  let code: number = EXIT.failed;
  try {
    if (comm.rank === 0) {
      const master = comm as MpiMasterCommunicator;
      if (master.worldSize < 2) {
        log.fatal('At least one worker process is required');
        return EXIT.failed;
      }
      if (options.workers !== undefined) {
        log.warn(
          `--workers is ignored under MPI: the job's ${master.worldSize - 1} worker ranks are the workers`,
        );
      }
      code = await runMaster(options, log, master);
    } else {
      code = await runMpiWorker(comm as MpiWorkerCommunicator, log, host.hostname);
    }
    return code;
  } finally {
    await comm.close();
    if (comm.broken) {
      log.error(`rank ${comm.rank}: the MPI job lost a rank; aborting the job (exit ${code || 1})`);
      comm.abortJob(code || 1);
    }
  }
}

/**
 * A worker rank. SIGTERM/SIGINT (the batch system ends the job, ^C at mpirun) reach every rank:
 * a worker leaves them to the master, which stops the run and collects the results of the
 * tasks it ends; a second signal ends the worker at once (its spawner kills its tasks).
 */
async function runMpiWorker(comm: MpiWorkerCommunicator, log: Logger, hostname: string): Promise<number> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    log.debug(`rank ${comm.rank}: caught ${signal}; the master stops the run`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  warnIfBound(comm.rank, log);
  try {
    return await new Worker(comm, log, hostname).run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/**
 * Tasks inherit their worker's CPU binding, and OpenMPI's mpirun binds each rank to one core
 * for small jobs: say so when this rank may use fewer CPUs than the host has.
 */
function warnIfBound(rank: number, log: Logger): void {
  if (process.env.OMPI_COMM_WORLD_SIZE === undefined) return;
  let allowed: string | undefined;
  try {
    allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return;
  }
  if (allowed === undefined) return;
  let count = 0;
  for (const part of allowed.split(',')) {
    const [a, b] = part.split('-').map(Number);
    count += b === undefined ? 1 : b - a + 1;
  }
  const total = os.cpus().length;
  if (count < total) {
    log.warn(
      `rank ${rank} may use only CPUs ${allowed} (${count} of ${total}) and its tasks inherit that; if mpirun bound it, run mpirun with --bind-to none`,
    );
  }
}

/** The master; over ZeroMQ (binding, spawning local workers) unless given an MPI communicator. */
async function runMaster(options: ClusterOptions, log: Logger, mpi?: MpiMasterCommunicator): Promise<number> {
  const startedAt = Date.now();
  const dagFile = options.dagFile;
  const dag = await loadDag(dagFile, { defaultTries: options.tries });
  const done = options.skipRescue ? new Uint8Array(dag.size) : await readRescue(options.rescue, dag);
  const loadSeconds = (Date.now() - startedAt) / 1000;
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

export interface WorkerProcessOptions {
  connect: string;
  secretFile?: string;
  log: Logger;
  /** Exit when stdin closes (local workers: the master's end of the pipe). */
  watchStdin?: boolean;
}

/** Runs one worker until the master shuts it down or disappears. */
export async function runWorkerProcess(o: WorkerProcessOptions): Promise<number> {
  const secret = o.secretFile ? await loadOrCreateSecret(o.secretFile) : secretFromEnv();
  // Tasks inherit the worker's environment: the run's secret is not theirs to see.
  delete process.env[SECRET_ENV];
  if (!secret)
    throw new UserError(
      `--worker needs --secret-file FILE (or ${SECRET_ENV}) to prove it belongs to the run`,
    );
  const host = detectHost();
  const comm = await connectWorker({
    url: o.connect,
    secret,
    info: { hostname: host.hostname, cpus: host.cpus, memory: host.memoryMb, pid: process.pid },
    log: (level, msg) => o.log.log(level, msg),
  });
  if (o.watchStdin) {
    process.stdin.on('end', () => comm.close());
    process.stdin.on('error', () => comm.close());
    process.stdin.resume();
  }
  return new Worker(comm, o.log, host.hostname).run();
}
