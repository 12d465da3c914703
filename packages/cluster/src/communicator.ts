/**
 * The transport interface between the master (rank 0) and its workers (ranks 1..N), in the
 * style of pegasus-mpi-cluster's communicator: ranks, send, a batch-draining receive, close.
 * Implementations: ZeroMQ (transports/zmq-communicator.ts); MPI later, behind the same shape.
 *
 * Contract for every implementation:
 * - send/broadcast never block: messages are queued in order per destination.
 * - receive() resolves with everything available now (at least one item), or null once the
 *   communicator is closed (master) or the master is gone (worker). Only one receive() may be
 *   pending at a time.
 * - Heartbeats are the transport's business: it sends them when a side is idle and does not
 *   deliver received ones.
 */
import { UserError } from './errors.js';
import type { MasterMessage, WorkerMessage } from './protocol.js';

export type Envelope<M> = { source: number; message: M };

export interface WorkerInfo {
  hostname: string;
  cpus: number;
  memory: number;
  /** GPUs the worker's host has (device ids 0..gpus-1). */
  gpus: number;
  pid: number;
}

export type TransportEvent =
  /** A worker proved it holds the secret and got `rank`; its messages follow. */
  | { kind: 'joined'; rank: number; info: WorkerInfo }
  /** A worker is gone (silent too long, disconnected, closed, bad message, markLost). */
  | { kind: 'lost'; rank: number; reason: string };

export interface MasterCommunicator {
  readonly rank: 0;
  readonly transport: 'zmq' | 'mpi';
  /** 1 + live workers. */
  size(): number;
  /** Never blocks; queued. A message to a rank that is not live is dropped. */
  send(dest: number, m: MasterMessage): void;
  /** send() to every live worker. */
  broadcast(m: MasterMessage): void;
  /** Everything currently available (batch drain); null when closed. */
  receive(): Promise<Array<Envelope<WorkerMessage> | TransportEvent> | null>;
  /** Report a worker gone now (e.g. the local process that ran it exited): emits 'lost'. */
  markLost(rank: number, reason: string): void;
  /** Tell every worker to quit at once, then close. */
  abort(reason: string): void;
  close(): Promise<void>;
}

export interface WorkerCommunicator {
  readonly rank: number;
  readonly transport: 'zmq' | 'mpi';
  send(m: WorkerMessage): void;
  /** Batch drain; null when the master is gone (the worker then kills its tasks and exits). */
  receive(): Promise<MasterMessage[] | null>;
  close(): Promise<void>;
}

/** Level-tagged log sink used by the transports. */
export type TransportLog = (level: 'info' | 'warn' | 'debug', msg: string) => void;

/** A transport could not be set up (bad URL, bind failure, master unreachable). */
export class TransportError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

export function isTransportEvent(x: Envelope<WorkerMessage> | TransportEvent): x is TransportEvent {
  return (x as TransportEvent).kind !== undefined;
}
