import { readFileSync } from 'node:fs';
import os from 'node:os';
import { loadOrCreateSecret, SECRET_ENV, secretFromEnv } from './auth.js';
import { UserError } from './errors.js';
import { detectHost } from './host-info.js';
import type { Logger } from './log.js';
import type { MpiWorkerCommunicator } from './transports/mpi-communicator.js';
import { Worker } from './worker.js';

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
  const { connectWorker } = await import('./transports/zmq-communicator.js');
  const comm = await connectWorker({
    url: o.connect,
    secret,
    info: {
      hostname: host.hostname,
      cpus: host.cpus,
      memory: host.memoryMb,
      gpus: host.gpus,
      pid: process.pid,
    },
    log: (level, msg) => o.log.log(level, msg),
  });
  if (o.watchStdin) {
    process.stdin.on('end', () => comm.close());
    process.stdin.on('error', () => comm.close());
    process.stdin.resume();
  }
  return new Worker(comm, o.log, host.hostname).run();
}

/**
 * A worker rank. SIGTERM/SIGINT (the batch system ends the job, ^C at mpirun) reach every rank:
 * a worker leaves them to the master, which stops the run and collects the results of the
 * tasks it ends; a second signal ends the worker at once (its spawner kills its tasks).
 */
export async function runMpiWorker(
  comm: MpiWorkerCommunicator,
  log: Logger,
  hostname: string,
): Promise<number> {
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
