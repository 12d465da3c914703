/**
 * The MPI transport: the job is one MPI world, rank 0 the master, ranks 1..N-1 the workers, as
 * in pegasus-mpi-cluster. The native addon (native/mpi) owns MPI on a C++ thread that sends,
 * receives and, when idle, sleeps instead of spinning; this file turns its byte buffers into
 * protocol messages: a message is `packFrames(encodeMaster(m))` (or encodeWorker), one MPI
 * message (tag 1), or pieces of at most 1 GiB (tag 2, then the last piece with tag 1).
 *
 * A worker's first message is `register` (hostname, cpus, memory, pid); the master turns it
 * into the `joined` event, and drops anything a rank sends before registering.
 *
 * Liveness: the addon's thread sends a 0-byte heartbeat (rank 0 to every worker, a worker to
 * rank 0) when it has sent a peer nothing for heartbeatMs, from C++, so a busy JS thread never
 * delays it. A rank silent for timeoutMs is lost. MPI cannot go on without one of its ranks
 * (MPI_Finalize would wait for it forever): a lost worker ends the master's receive() (the
 * run ends with the rescue log flushed) and `broken` is set, so the runner ends the job with
 * MPI_Abort after writing its files (`abortJob`). Usually the launcher is faster: mpirun kills
 * every rank as soon as one dies.
 */
import type { MpiAddon, MpiInfo } from '@pegasus-ts/native-mpi';
import type {
  Envelope,
  MasterCommunicator,
  TransportEvent,
  TransportLog,
  WorkerCommunicator,
  WorkerInfo,
} from '../communicator.js';
import { TransportError } from '../communicator.js';
import type { MasterMessage, WorkerMessage } from '../protocol.js';
import {
  decodeMaster,
  decodeWorker,
  encodeMaster,
  encodeWorker,
  packFrames,
  unpackFrames,
} from '../protocol.js';
import { Inbox } from './internal/inbox.js';

export interface MpiOptions {
  /** What a worker registers with (ignored on rank 0). */
  info: WorkerInfo;
  /** Heartbeat after this long without sending a peer anything (1000). */
  heartbeatMs?: number;
  /** A peer silent this long is lost (10000). */
  timeoutMs?: number;
  /** How long close() lets the last messages go out before finalizing (2000). */
  closeTimeoutMs?: number;
  log: TransportLog;
  /** The addon (tests); loaded from @pegasus-ts/native-mpi by default. */
  addon?: MpiAddon;
}

/** What both sides add to the Communicator interfaces. */
export interface MpiExtras {
  /** Ranks in MPI_COMM_WORLD (master included). */
  readonly worldSize: number;
  /** e.g. "Open MPI v4.1.4". */
  readonly library: string;
  readonly threadLevel: MpiInfo['threadLevel'];
  /** A rank was lost: MPI cannot finalize; end the job with abortJob() after writing files. */
  readonly broken: boolean;
  /** MPI_Abort(code): ends every rank of the job (does not return when MPI is running). */
  abortJob(code: number): void;
}

export type MpiMasterCommunicator = MasterCommunicator & MpiExtras & { readonly rank: 0 };
export type MpiWorkerCommunicator = WorkerCommunicator & MpiExtras;

const TAG_MSG = 1;
const TAG_PART = 2;
/** Largest piece sent as one MPI message (MPI counts are ints). */
const MAX_PIECE = 1 << 30;
const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** If MPI_Finalize has not returned after this long, give up on it (the job is then aborted). */
const FINALIZE_GUARD_MS = 30_000;

type Flat = Array<number | Buffer>;

/** Loads the addon: it, or the reason it is unavailable. */
export async function loadMpi(): Promise<{ addon: MpiAddon } | { error: string }> {
  let mod: typeof import('@pegasus-ts/native-mpi');
  try {
    mod = await import('@pegasus-ts/native-mpi');
  } catch (e) {
    return { error: `the @pegasus-ts/native-mpi package cannot load: ${String((e as Error).message)}` };
  }
  const addon = mod.loadMpiAddon();
  return addon ? { addon } : { error: mod.mpiAddonError() ?? 'native/mpi is not built' };
}

/**
 * Initialises MPI (once per process) and returns the master communicator on rank 0, a
 * worker's on the other ranks (which sends its registration at once).
 */
export async function openMpi(o: MpiOptions): Promise<MpiMasterCommunicator | MpiWorkerCommunicator> {
  let addon = o.addon;
  if (!addon) {
    const loaded = await loadMpi();
    if ('error' in loaded) throw new TransportError(`--transport mpi: ${loaded.error}`);
    addon = loaded.addon;
  }
  const heartbeatMs = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(heartbeatMs) || heartbeatMs < 10)
    throw new TransportError(`heartbeatMs must be a number >= 10, got ${heartbeatMs}`);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= heartbeatMs)
    throw new TransportError(`timeoutMs must be greater than heartbeatMs (${heartbeatMs}), got ${timeoutMs}`);
  // Messages that arrive before the communicator exists (none should: peers wait for us) queue here.
  let target: ((flat: Flat, errors?: string[]) => void) | undefined;
  const early: Array<[Flat, string[] | undefined]> = [];
  let info: MpiInfo;
  try {
    info = await addon.init(
      (flat, errors) => {
        if (target) target(flat, errors);
        else early.push([flat, errors]);
      },
      { heartbeatMs },
    );
  } catch (e) {
    throw new TransportError(`MPI initialisation failed: ${(e as Error).message}`);
  }
  const base = new MpiBase(addon, info, timeoutMs, o.closeTimeoutMs ?? 2000, o.log);
  const comm = info.rank === 0 ? new MpiMaster(base) : new MpiWorker(base, o.info);
  target = (flat, errors) => comm.deliver(flat, errors);
  for (const [flat, errors] of early) comm.deliver(flat, errors);
  return comm;
}

/** State and plumbing shared by both sides: sending with pieces, reassembly, closing. */
class MpiBase {
  broken = false;
  closing: Promise<void> | undefined;
  private readonly partial = new Map<number, Buffer[]>();

  constructor(
    readonly addon: MpiAddon,
    readonly info: MpiInfo,
    readonly timeoutMs: number,
    private readonly closeTimeoutMs: number,
    readonly log: TransportLog,
  ) {}

  post(dest: number, bytes: Buffer): void {
    try {
      if (bytes.length <= MAX_PIECE) {
        this.addon.send(dest, TAG_MSG, bytes);
        return;
      }
      for (let at = 0; at < bytes.length; at += MAX_PIECE) {
        const end = Math.min(bytes.length, at + MAX_PIECE);
        this.addon.send(dest, end === bytes.length ? TAG_MSG : TAG_PART, bytes.subarray(at, end));
      }
    } catch (e) {
      this.log('warn', `mpi send to rank ${dest} failed: ${(e as Error).message}`);
    }
  }

  /** The whole message once its last piece is in, else undefined. */
  assemble(source: number, tag: number, data: Buffer): Buffer | undefined {
    const parts = this.partial.get(source);
    if (tag === TAG_PART) {
      if (parts) parts.push(data);
      else this.partial.set(source, [data]);
      return undefined;
    }
    if (!parts) return data;
    this.partial.delete(source);
    parts.push(data);
    return Buffer.concat(parts);
  }

  errors(errors: string[] | undefined): void {
    if (errors) for (const e of errors) this.log('warn', `mpi: ${e}`);
  }

  /** Stops the MPI thread; finalizes unless a rank was lost. Never hangs. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const finalize = !this.broken;
      const st = this.addon.stats();
      this.log(
        'debug',
        `rank ${this.info.rank}: MPI thread sent ${st.sent} and received ${st.received} messages, woke ${st.wakeups} times, used ${st.threadCpuMs.toFixed(0)} ms of CPU (${st.doorbell ? `doorbell, ${st.bellTimeouts} sleeps timed out` : 'polling'}; ${st.directSend ? `sends from the JS thread, ${st.deferredSends} completed later` : 'sends queued'}; TCP_NODELAY set on ${st.nodelaySockets} loopback socket(s))`,
      );
      let guard: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        guard = setTimeout(() => resolve('timeout'), this.closeTimeoutMs + FINALIZE_GUARD_MS);
      });
      const r = await Promise.race([
        this.addon.close({ finalize, timeoutMs: this.closeTimeoutMs }),
        timedOut,
      ]);
      clearTimeout(guard);
      if (r === 'timeout') {
        this.log('warn', 'MPI_Finalize did not return: the job will be aborted');
        this.broken = true;
        this.addon.unref();
      }
    })();
    return this.closing;
  }

  abortJob(code: number): void {
    this.log('debug', `MPI_Abort(${code})`);
    this.addon.abort(code);
  }
}

class MpiMaster implements MpiMasterCommunicator {
  readonly rank = 0 as const;
  readonly transport = 'mpi' as const;
  readonly worldSize: number;
  readonly library: string;
  readonly threadLevel: MpiInfo['threadLevel'];
  private readonly inbox = new Inbox<Envelope<WorkerMessage> | TransportEvent>();
  /** Per rank: 0 not registered, 1 joined, 2 lost. */
  private readonly state: Uint8Array;
  private readonly shutdownSent: Uint8Array;
  private live = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly b: MpiBase) {
    this.worldSize = b.info.size;
    this.library = b.info.library;
    this.threadLevel = b.info.threadLevel;
    this.state = new Uint8Array(b.info.size);
    this.shutdownSent = new Uint8Array(b.info.size);
    this.timer = setInterval(() => this.tick(), Math.min(1000, Math.floor(b.timeoutMs / 4)));
    this.timer.unref();
  }

  get broken(): boolean {
    return this.b.broken;
  }

  size(): number {
    return 1 + this.live;
  }

  send(dest: number, m: MasterMessage): void {
    if (this.closed || this.state[dest] !== 1) {
      this.b.log('debug', `dropped ${m.type} for rank ${dest}: not a live worker`);
      return;
    }
    if (m.type === 'shutdown') this.shutdownSent[dest] = 1;
    this.b.post(dest, packFrames(encodeMaster(m)));
  }

  broadcast(m: MasterMessage): void {
    if (this.closed) return;
    const bytes = packFrames(encodeMaster(m));
    for (let r = 1; r < this.worldSize; r++) {
      if (this.state[r] !== 1) continue;
      if (m.type === 'shutdown') this.shutdownSent[r] = 1;
      this.b.post(r, bytes);
    }
  }

  receive(): Promise<Array<Envelope<WorkerMessage> | TransportEvent> | null> {
    return this.inbox.next();
  }

  markLost(rank: number, reason: string): void {
    this.lose(rank, reason);
    this.inbox.flush();
  }

  abort(reason: string): void {
    this.b.log('debug', `abort: ${reason}`);
    this.end();
  }

  async close(): Promise<void> {
    this.end();
    await this.b.close();
  }

  abortJob(code: number): void {
    this.b.abortJob(code);
  }

  /** Tells every rank still running (joined or not) to shut down, and stops delivering. */
  private end(): void {
    if (this.closed) return;
    const bytes = packFrames(encodeMaster({ type: 'shutdown' }));
    for (let r = 1; r < this.worldSize; r++) {
      if (this.state[r] === 2 || this.shutdownSent[r]) continue;
      this.shutdownSent[r] = 1;
      this.b.post(r, bytes);
    }
    this.closed = true;
    clearInterval(this.timer);
    this.inbox.close();
  }

  deliver(flat: Flat, errors?: string[]): void {
    this.b.errors(errors);
    for (let i = 0; i < flat.length; i += 3) {
      const source = flat[i] as number;
      const bytes = this.b.assemble(source, flat[i + 1] as number, flat[i + 2] as Buffer);
      if (bytes === undefined || this.closed || source <= 0 || this.state[source] === 2) continue;
      let m: WorkerMessage;
      try {
        m = decodeWorker(unpackFrames(bytes));
      } catch (e) {
        this.lose(source, `bad message: ${(e as Error).message}`);
        continue;
      }
      if (this.state[source] === 0) {
        if (m.type === 'register') {
          this.state[source] = 1;
          this.live++;
          const info: WorkerInfo = {
            hostname: m.hostname,
            cpus: m.cpus,
            memory: m.memory,
            gpus: m.gpus,
            pid: m.pid,
          };
          this.b.log(
            'debug',
            `worker rank ${source} joined: ${m.hostname} pid ${m.pid}, ${m.cpus} cpus, ${m.memory} MB`,
          );
          this.inbox.push({ kind: 'joined', rank: source, info });
        } else {
          this.b.log('warn', `rank ${source} sent ${m.type} before registering; ignored`);
        }
        continue;
      }
      if (m.type === 'heartbeat' || m.type === 'register') continue;
      this.inbox.push({ source, message: m });
    }
    this.inbox.flush();
  }

  private tick(): void {
    for (let r = 1; r < this.worldSize; r++) {
      // A worker told to shut down may be in MPI_Finalize already: its heartbeats have stopped.
      if (this.state[r] === 2 || this.shutdownSent[r]) continue;
      const silent = this.b.addon.silence(r);
      if (silent > this.b.timeoutMs)
        this.lose(r, `no message or heartbeat for ${(silent / 1000).toFixed(1)} s`);
    }
    this.inbox.flush();
  }

  /** A rank is gone: the MPI job cannot complete; report it and end receive(). */
  private lose(rank: number, reason: string): void {
    if (rank <= 0 || rank >= this.worldSize || this.state[rank] === 2 || this.closed) return;
    const joined = this.state[rank] === 1;
    this.state[rank] = 2;
    if (joined) this.live--;
    this.b.broken = true;
    this.b.log(
      'warn',
      `MPI rank ${rank} lost (${reason}): an MPI job cannot go on without one of its ranks; ending the run (run it again to resume from the rescue log)`,
    );
    if (joined) this.inbox.push({ kind: 'lost', rank, reason });
    this.end();
  }
}

class MpiWorker implements MpiWorkerCommunicator {
  readonly transport = 'mpi' as const;
  readonly rank: number;
  readonly worldSize: number;
  readonly library: string;
  readonly threadLevel: MpiInfo['threadLevel'];
  private readonly inbox = new Inbox<MasterMessage>();
  private closed = false;
  private shutdownSeen = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly b: MpiBase,
    info: WorkerInfo,
  ) {
    this.rank = b.info.rank;
    this.worldSize = b.info.size;
    this.library = b.info.library;
    this.threadLevel = b.info.threadLevel;
    this.timer = setInterval(() => this.tick(), Math.min(1000, Math.floor(b.timeoutMs / 4)));
    this.timer.unref();
    this.send({ type: 'register', ...info });
  }

  get broken(): boolean {
    return this.b.broken;
  }

  send(m: WorkerMessage): void {
    if (this.closed) {
      this.b.log('debug', `dropped ${m.type}: the connection to the master is closed`);
      return;
    }
    this.b.post(0, packFrames(encodeWorker(m)));
  }

  receive(): Promise<MasterMessage[] | null> {
    return this.inbox.next();
  }

  async close(): Promise<void> {
    this.end();
    await this.b.close();
  }

  abortJob(code: number): void {
    this.b.abortJob(code);
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.inbox.close();
  }

  deliver(flat: Flat, errors?: string[]): void {
    this.b.errors(errors);
    for (let i = 0; i < flat.length; i += 3) {
      const source = flat[i] as number;
      const bytes = this.b.assemble(source, flat[i + 1] as number, flat[i + 2] as Buffer);
      if (bytes === undefined || this.closed) continue;
      if (source !== 0) {
        this.b.log('warn', `rank ${this.rank}: message from rank ${source} (not the master) ignored`);
        continue;
      }
      let m: MasterMessage;
      try {
        m = decodeMaster(unpackFrames(bytes));
      } catch (e) {
        const msg = `bad message from the master: ${(e as Error).message}`;
        this.send({ type: 'fatal', message: msg });
        this.b.log('warn', `rank ${this.rank}: ${msg}`);
        this.end();
        return;
      }
      if (m.type === 'shutdown') this.shutdownSeen = true;
      if (m.type !== 'heartbeat') this.inbox.push(m);
    }
    this.inbox.flush();
  }

  private tick(): void {
    // After 'shutdown' the master may be in MPI_Finalize already: its heartbeats have stopped.
    if (this.closed || this.shutdownSeen) return;
    const silent = this.b.addon.silence(0);
    if (silent > this.b.timeoutMs) {
      this.b.broken = true;
      this.b.log(
        'warn',
        `rank ${this.rank}: the master (rank 0) sent nothing for ${(silent / 1000).toFixed(1)} s: it is gone`,
      );
      this.end();
    }
  }
}
