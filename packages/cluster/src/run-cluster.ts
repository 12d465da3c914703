import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  if (options.transport === 'mpi') {
    throw new UserError(
      '--transport mpi: this build has no MPI transport (native/mpi); use --transport zmq or auto',
    );
  }
  if (options.worker)
    return runWorkerProcess({ connect: options.connect!, secretFile: options.secretFile, log });
  return runMaster(options, log);
}

async function runMaster(options: ClusterOptions, log: Logger): Promise<number> {
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
  let runOk: boolean | undefined;
  try {
    outputs = await RunOutputs.open(options, dag, done);
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
    comm = await bindMaster({
      url,
      secret,
      workerTimeoutMs: options.workerTimeout * 1000,
      log: (level, msg) => log.log(level, msg),
    });
    const endpoint = (comm as MasterCommunicator & { endpoint: string }).endpoint;
    log.info(`Using transport zmq (${local ? 'local workers' : 'workers connect over tcp'}) on ${endpoint}`);
    const host = detectHost();
    const expectedWorkers = options.workers ?? (local ? Math.max(1, host.cpus) : 1);
    if (!local) {
      log.info(
        `Waiting for ${expectedWorkers} worker(s): pegasus-ts mpi-cluster --worker --connect ${endpoint}${options.secretFile ? ` --secret-file ${options.secretFile}` : ''}`,
      );
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
      loadSeconds,
      startedAt,
    });
    const masterComm = comm;
    if (local && master.hasWork) {
      for (let i = 0; i < expectedWorkers; i++) {
        const child = spawn(process.execPath, [WORKER_MAIN, endpoint], {
          stdio: ['pipe', 'inherit', 'inherit'],
          env: { ...process.env, ...secretEnv(secret), PEGASUS_TS_VERBOSITY: String(options.verbosity) },
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
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
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
    await stopChildren(children);
    for (const c of cleanups.reverse()) c();
  }
}

/**
 * Local workers leave by themselves once they get 'shutdown'. One that has not after 2 s has
 * its stdin closed (it then kills its tasks and exits), and is killed 3 s later.
 */
async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
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

export { createLogger };
