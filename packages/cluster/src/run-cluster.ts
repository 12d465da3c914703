import type { MpiAddon } from '@pegasus-ts/native-mpi';
import type { ClusterOptions } from './cluster-options.js';
import { UserError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { detectHost } from './host-info.js';
import { createLogger, type Logger } from './log.js';
import type { MasterInputs } from './run-master.js';
import { mpiLauncherMark, mpiLauncherRank, mpiLauncherSize } from './transports/internal/mpi-env.js';
import type { MpiMasterCommunicator, MpiWorkerCommunicator } from './transports/mpi-communicator.js';

// Only what the chosen role needs is loaded (run-master.js, run-worker.js, a transport): every
// rank of a big MPI job, and every local worker, starts faster for it.

/**
 * `pegasus-ts mpi-cluster`: runs a DAG as master (spawning local workers, or waiting for
 * workers that connect over tcp), or runs one worker (`--worker --connect URL`).
 * Returns the exit code; user errors are thrown as UserError.
 */
export async function runCluster(options: ClusterOptions): Promise<number> {
  const log = createLogger(options.verbosity);
  if (options.worker) {
    const { runWorkerProcess } = await import('./run-worker.js');
    return runWorkerProcess({ connect: options.connect!, secretFile: options.secretFile, log });
  }
  const mpi = await chooseTransport(options, log);
  if (mpi === undefined) return (await import('./run-master.js')).runMaster(options, log);
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
  // What this rank will run starts loading while MPI initialises on its own thread (a module
  // is loaded once: the import below gets the same one); rank 0 reads the DAG meanwhile too.
  // A failure is reported where the result is awaited.
  const hinted = mpiLauncherRank(process.env);
  let inputs: Promise<MasterInputs> | undefined;
  if (hinted === 0) {
    inputs = import('./run-master.js').then((m) => m.loadMasterInputs(options));
    inputs.catch(() => {});
  } else if (hinted !== undefined) {
    import('./run-worker.js').catch(() => {});
  }
  const host = detectHost();
  const comm = await openMpi({
    addon,
    info: {
      hostname: host.hostname,
      cpus: host.cpus,
      memory: host.memoryMb,
      gpus: host.gpus,
      pid: process.pid,
    },
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
      const { runMaster } = await import('./run-master.js');
      code = await runMaster(options, log, master, inputs);
    } else {
      const { runMpiWorker } = await import('./run-worker.js');
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
