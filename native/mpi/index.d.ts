export interface MpiInfo {
  rank: number;
  /** Ranks in MPI_COMM_WORLD. */
  size: number;
  /** The thread level MPI_Init_thread provided (MPI_THREAD_MULTIPLE requested). */
  threadLevel: 'multiple' | 'serialized' | 'funneled' | 'single';
  /** First line of MPI_Get_library_version, e.g. "Open MPI v4.1.4". */
  library: string;
  /** MPI_Get_processor_name. */
  processor: string;
}

export interface MpiStats {
  /** Rounds of the MPI thread's loop. */
  wakeups: number;
  /** Times it went to sleep (idle). */
  sleeps: number;
  received: number;
  sent: number;
  bytesIn: number;
  bytesOut: number;
  pendingSends: number;
  /** CPU time the MPI thread used (as of its last sleep). */
  threadCpuMs: number;
  /** Every rank is on this node: peers wake this rank's idle MPI thread with a semaphore (no polling). */
  doorbell: boolean;
  /** MPI_THREAD_MULTIPLE: send() calls MPI_Isend on the JS thread (no hand-off to the MPI thread). */
  directSend: boolean;
  /** Sends that MPI_Isend did not complete at once (the MPI thread completed them). */
  deferredSends: number;
  /** Doorbell mode: sleeps that ended by timeout rather than by a ring. */
  bellTimeouts: number;
  /** loopback TCP sockets (the PMIx server's) given TCP_NODELAY after MPI_Init */
  nodelaySockets: number;
  phase: 'new' | 'initialising' | 'running' | 'closing' | 'closed';
}

/**
 * Gets every message received since the last call, flattened: [source, tag, data, source, tag,
 * data, ...] (data is a Buffer owned by JS); `errors` lists MPI errors of the MPI thread.
 */
export type OnMessages = (flat: Array<number | Buffer>, errors?: string[]) => void;

export interface MpiAddon {
  /** A whole message, or the last piece of one. */
  readonly TAG_MSG: 1;
  /** A piece of a message; more follow from the same source (messages > 1 GiB). */
  readonly TAG_PART: 2;
  /**
   * Starts the MPI thread, which calls MPI_Init_thread(MPI_THREAD_MULTIPLE). Once per process.
   * heartbeatMs > 0: rank 0 sends a 0-byte heartbeat to every worker, a worker to rank 0, when it
   * has sent it nothing for that long (see silence()).
   */
  init(onMessages: OnMessages, options?: { heartbeatMs?: number }): Promise<MpiInfo>;
  /** Copies the bytes and queues them for the MPI thread (MPI_Isend); never blocks. */
  send(dest: number, tag: 1 | 2, data: Buffer): void;
  /** Milliseconds since anything (message or heartbeat) arrived from `rank` (or since init). */
  silence(rank: number): number;
  /**
   * Completes the queued sends (at most timeoutMs, default 2000; the rest are cancelled), stops
   * the MPI thread and, unless finalize is false, calls MPI_Finalize (which waits for every rank
   * to finalize). Resolves once done.
   */
  close(options?: { finalize?: boolean; timeoutMs?: number }): Promise<void>;
  /** MPI_Abort(MPI_COMM_WORLD, code): ends every rank. Returns false if MPI is not running. */
  abort(code: number): boolean;
  /** Whether the running MPI thread keeps the event loop alive (it does after init). */
  ref(): void;
  unref(): void;
  stats(): MpiStats;
}

export const buildDir: string;
export const addonPath: string;
export function loadMpiAddon(): MpiAddon | null;
export function mpiAddonError(): string | null;
