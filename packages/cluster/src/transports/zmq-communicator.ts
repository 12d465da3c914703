/**
 * The ZeroMQ transport: the master binds a ROUTER, each worker connects a DEALER.
 *
 * A worker gets a rank only after the HMAC handshake (auth.ts, internal/control-frames.ts):
 * HELLO -> CHALLENGE -> PROOF -> ACCEPTED (or REFUSED). Until then nothing it sends reaches
 * the master's receive(). Both sides send a heartbeat when they have sent nothing for
 * heartbeatMs; a worker silent for workerTimeoutMs is reported lost (and told 'shutdown' if
 * it shows up again); a worker whose master is silent for masterTimeoutMs sees receive()
 * resolve null. Closing sends BYE so the other side learns at once.
 *
 * Each side runs one receive pump: it awaits one message, then drains what the socket already
 * holds (sync-resolved receives while `readable`), and hands the batch to receive().
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { context, Dealer, Router } from 'zeromq';
import { AuthError, MIN_SECRET_BYTES, masterProof, newNonce, proofMatches, workerProof } from '../auth.js';
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
import { decodeMaster, decodeWorker, encodeMaster, encodeWorker } from '../protocol.js';
import {
  ACCEPTED,
  BYE,
  CHALLENGE,
  type ControlFrame,
  decodeControl,
  encodeAccepted,
  encodeBye,
  encodeChallenge,
  encodeHello,
  encodeProof,
  encodeRefused,
  HELLO,
  infoBytes,
  isControl,
  PROOF,
  REFUSED,
} from './internal/control-frames.js';
import { Inbox } from './internal/inbox.js';

export interface ZmqMasterOptions {
  /** 'ipc:///path' or 'tcp://host:port' (port 0 or '*' = any free port). */
  url: string;
  secret: Buffer;
  /** Send a heartbeat to a worker after this long without sending it anything (1000). */
  heartbeatMs?: number;
  /** Report a worker lost after this long without hearing from it (10000). */
  workerTimeoutMs?: number;
  log: TransportLog;
}

export interface ZmqWorkerOptions {
  /** The master's endpoint. */
  url: string;
  secret: Buffer;
  /** Send a heartbeat after this long without sending anything (1000). */
  heartbeatMs?: number;
  /** The master is gone after this long without a message from it (10000). */
  masterTimeoutMs?: number;
  /** Give up the handshake after this long (masterTimeoutMs). */
  connectTimeoutMs?: number;
  info: WorkerInfo;
  log: TransportLog;
}

export type ZmqMasterCommunicator = MasterCommunicator & {
  /** The real URL to connect to (port and host filled in). */
  readonly endpoint: string;
};

// close() already lingers as long as a goodbye needs; at process exit nothing more is waited for
// (otherwise zeromq warns and holds the process for messages to a peer that is gone).
context.blocky = false;

const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Most messages drained in one batch before yielding to the event loop. */
const DRAIN_MAX = 4096;
/** How long close() lets queued messages (final results, BYE) go out. */
const CLOSE_LINGER_MS = 1000;
/** Most refused/lost routing ids remembered (oldest forgotten first). */
const MAX_IGNORED = 10_000;

const MASTER_HEARTBEAT = encodeMaster({ type: 'heartbeat' });
const WORKER_HEARTBEAT = encodeWorker({ type: 'heartbeat' });
const SHUTDOWN = encodeMaster({ type: 'shutdown' });

function checkUrl(url: string): void {
  if (typeof url !== 'string' || !/^(ipc:\/\/.+|tcp:\/\/[^:]+:(\d+|\*))$/.test(url)) {
    throw new TransportError(
      `bad transport URL ${JSON.stringify(url)}: expected ipc:///path or tcp://host:port`,
    );
  }
}

function checkTimes(heartbeatMs: number, timeoutMs: number, what: string): void {
  if (!Number.isFinite(heartbeatMs) || heartbeatMs < 10) {
    throw new TransportError(`heartbeatMs must be a number >= 10, got ${heartbeatMs}`);
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= heartbeatMs) {
    throw new TransportError(`${what} must be greater than heartbeatMs (${heartbeatMs}), got ${timeoutMs}`);
  }
}

function checkSecret(secret: Buffer): void {
  if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
    throw new AuthError(`the cluster secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
}

function errText(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

/** Send without blocking: sendTimeout is 0 and the high-water marks are unlimited. */
function post(sock: Router | Dealer, frames: Buffer[], log: TransportLog): void {
  sock.send(frames).catch((e: unknown) => {
    if (!sock.closed) log('warn', `zmq send failed: ${errText(e)}`);
  });
}

interface Peer {
  rank: number;
  id: Buffer;
  key: string;
  info: WorkerInfo;
  lastSeen: number;
  lastSent: number;
}

interface Handshake {
  workerNonce: Buffer;
  masterNonce: Buffer;
  since: number;
}

class ZmqMaster implements ZmqMasterCommunicator {
  readonly rank = 0 as const;
  readonly transport = 'zmq' as const;
  private readonly peers = new Map<string, Peer>();
  private readonly byRank: (Peer | undefined)[] = [undefined];
  private readonly handshakes = new Map<string, Handshake>();
  /** Routing ids refused or lost: 'lost' ones get one 'shutdown' if they speak again. */
  private readonly ignored = new Map<string, 'refused' | 'lost' | 'told'>();
  private readonly inbox = new Inbox<Envelope<WorkerMessage> | TransportEvent>();
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;
  private nextRank = 1;
  private now = Date.now();
  private lastTick = this.now;
  private closed = false;

  constructor(
    private readonly sock: Router,
    readonly endpoint: string,
    private readonly secret: Buffer,
    private readonly heartbeatMs: number,
    private readonly workerTimeoutMs: number,
    private readonly log: TransportLog,
  ) {
    this.tickMs = Math.max(5, Math.min(heartbeatMs, Math.floor(workerTimeoutMs / 4)));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
    void this.pump();
  }

  size(): number {
    return 1 + this.peers.size;
  }

  send(dest: number, m: MasterMessage): void {
    const peer = this.byRank[dest];
    if (peer === undefined || this.closed) {
      this.log('debug', `dropped ${m.type} for rank ${dest}: not a live worker`);
      return;
    }
    this.sendTo(peer, encodeMaster(m));
  }

  broadcast(m: MasterMessage): void {
    if (this.closed) return;
    const frames = encodeMaster(m);
    for (const peer of this.peers.values()) this.sendTo(peer, frames);
  }

  receive(): Promise<Array<Envelope<WorkerMessage> | TransportEvent> | null> {
    return this.inbox.next();
  }

  markLost(rank: number, reason: string): void {
    const peer = this.byRank[rank];
    if (peer === undefined) return;
    this.lose(peer, reason);
    this.inbox.flush();
  }

  abort(reason: string): void {
    this.shutdown(`abort: ${reason}`);
  }

  async close(): Promise<void> {
    this.shutdown('master closed');
  }

  private shutdown(why: string): void {
    if (this.closed) return;
    for (const peer of this.peers.values()) this.sendTo(peer, encodeBye(why));
    this.closed = true;
    clearInterval(this.timer);
    this.sock.linger = CLOSE_LINGER_MS;
    this.sock.close();
    this.inbox.close();
  }

  private sendTo(peer: Peer, frames: Buffer[]): void {
    peer.lastSent = this.now;
    post(this.sock, [peer.id, ...frames], this.log);
  }

  private async pump(): Promise<void> {
    const sock = this.sock;
    try {
      while (!this.closed) {
        const first = await sock.receive();
        this.now = Date.now();
        this.handle(first);
        for (let n = 0; n < DRAIN_MAX && !this.closed && sock.readable; n++)
          this.handle(await sock.receive());
        this.inbox.flush();
      }
    } catch (e) {
      if (this.closed) return;
      this.log('warn', `zmq master receive failed: ${errText(e)}`);
      this.shutdown('master receive failed');
    }
  }

  private handle(frames: Buffer[]): void {
    try {
      const id = frames[0];
      const key = id.toString('latin1');
      const rest = frames.slice(1);
      const peer = this.peers.get(key);
      if (peer !== undefined) {
        peer.lastSeen = this.now;
        if (isControl(rest)) {
          this.peerControl(peer, rest);
          return;
        }
        let m: WorkerMessage;
        try {
          m = decodeWorker(rest);
        } catch (e) {
          post(this.sock, [id, ...SHUTDOWN], this.log);
          this.lose(peer, `bad message: ${errText(e)}`);
          return;
        }
        if (m.type !== 'heartbeat') this.inbox.push({ source: peer.rank, message: m });
        return;
      }
      const ignored = this.ignored.get(key);
      if (ignored !== undefined) {
        if (ignored === 'lost') {
          this.ignored.set(key, 'told');
          post(this.sock, [id, ...SHUTDOWN], this.log);
          this.log('info', `worker ${id.toString('hex')} spoke after it was reported lost; sent shutdown`);
        }
        return;
      }
      this.handshake(id, key, rest);
    } catch (e) {
      this.log('warn', `zmq master: unexpected error handling a message: ${errText(e)}`);
    }
  }

  private peerControl(peer: Peer, frames: Buffer[]): void {
    let c: ControlFrame;
    try {
      c = decodeControl(frames);
    } catch (e) {
      this.lose(peer, `bad control frame: ${errText(e)}`);
      return;
    }
    if (c.type === BYE) this.lose(peer, `worker closed (${c.reason})`);
    else this.log('debug', `rank ${peer.rank}: ignored control frame 0x${c.type.toString(16)}`);
  }

  private handshake(id: Buffer, key: string, frames: Buffer[]): void {
    if (!isControl(frames)) {
      this.refuse(id, key, 'message before authentication');
      return;
    }
    let c: ControlFrame;
    try {
      c = decodeControl(frames);
    } catch (e) {
      this.refuse(id, key, errText(e));
      return;
    }
    const hs = this.handshakes.get(key);
    if (c.type === HELLO && hs === undefined) {
      const masterNonce = newNonce();
      this.handshakes.set(key, { workerNonce: c.nonce, masterNonce, since: this.now });
      post(this.sock, [id, ...encodeChallenge(masterNonce)], this.log);
      return;
    }
    if (c.type === PROOF && hs !== undefined) {
      this.handshakes.delete(key);
      const expected = workerProof(this.secret, hs.workerNonce, hs.masterNonce, c.infoBytes);
      if (!proofMatches(expected, c.mac)) {
        this.refuse(id, key, 'bad proof (wrong secret?)', c.info);
        return;
      }
      const rank = this.nextRank++;
      const peer: Peer = { rank, id, key, info: c.info, lastSeen: this.now, lastSent: this.now };
      this.peers.set(key, peer);
      this.byRank[rank] = peer;
      post(
        this.sock,
        [id, ...encodeAccepted(rank, masterProof(this.secret, hs.masterNonce, hs.workerNonce, rank))],
        this.log,
      );
      const { hostname: host, pid, cpus, memory } = c.info;
      this.log('debug', `worker rank ${rank} joined: ${host} pid ${pid}, ${cpus} cpus, ${memory} MB`);
      this.inbox.push({ kind: 'joined', rank, info: c.info });
      return;
    }
    if (c.type === BYE) {
      this.handshakes.delete(key);
      return;
    }
    this.refuse(id, key, `unexpected control frame 0x${c.type.toString(16)} during the handshake`);
  }

  private refuse(id: Buffer, key: string, reason: string, info?: WorkerInfo): void {
    this.handshakes.delete(key);
    this.ignore(key, 'refused');
    const from = info === undefined ? 'unknown address' : `${info.hostname} (pid ${info.pid}, claimed)`;
    this.log('warn', `refused worker ${id.toString('hex')} from ${from}: ${reason}`);
    post(this.sock, [id, ...encodeRefused(reason)], this.log);
  }

  private ignore(key: string, why: 'refused' | 'lost'): void {
    if (this.ignored.size >= MAX_IGNORED) {
      const oldest = this.ignored.keys().next().value;
      if (oldest !== undefined) this.ignored.delete(oldest);
    }
    this.ignored.set(key, why);
  }

  private lose(peer: Peer, reason: string): void {
    if (this.peers.get(peer.key) !== peer) return;
    this.peers.delete(peer.key);
    this.byRank[peer.rank] = undefined;
    this.ignore(peer.key, 'lost');
    this.log(
      'debug',
      `worker rank ${peer.rank} (${peer.info.hostname} pid ${peer.info.pid}) lost: ${reason}`,
    );
    this.inbox.push({ kind: 'lost', rank: peer.rank, reason });
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    this.now = now;
    for (const peer of this.peers.values()) {
      // A stalled master (long synchronous work) must not blame its workers for the silence.
      if (late > this.tickMs) peer.lastSeen += late;
      if (now - peer.lastSeen > this.workerTimeoutMs) {
        this.lose(peer, `no message for ${((now - peer.lastSeen) / 1000).toFixed(1)} s`);
      } else if (now - peer.lastSent >= this.heartbeatMs) {
        this.sendTo(peer, MASTER_HEARTBEAT);
      }
    }
    for (const [key, hs] of this.handshakes) {
      if (now - hs.since > this.workerTimeoutMs) {
        this.handshakes.delete(key);
        this.log('debug', `handshake with ${Buffer.from(key, 'latin1').toString('hex')} timed out`);
      }
    }
    this.inbox.flush();
  }
}

/** True when something accepts connections on the Unix socket at `path` (libzmq would steal it). */
function ipcInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ path });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Bind the master's ROUTER socket. */
export async function bindMaster(opts: ZmqMasterOptions): Promise<ZmqMasterCommunicator> {
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const workerTimeoutMs = opts.workerTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkUrl(opts.url);
  checkTimes(heartbeatMs, workerTimeoutMs, 'workerTimeoutMs');
  checkSecret(opts.secret);
  const sock = new Router({
    linger: 0,
    sendHighWaterMark: 0,
    receiveHighWaterMark: 0,
    sendTimeout: 0,
  });
  if (opts.url.startsWith('ipc://') && (await ipcInUse(opts.url.slice('ipc://'.length)))) {
    throw new TransportError(`cannot bind ${opts.url}: another process is listening there`);
  }
  const url = opts.url.replace(/^(tcp:\/\/.+):0$/, '$1:*');
  try {
    await sock.bind(url);
  } catch (e) {
    sock.close();
    throw new TransportError(`cannot bind ${opts.url}: ${errText(e)}`);
  }
  let endpoint = sock.lastEndpoint ?? opts.url;
  // A wildcard address is not something to connect to: name this host instead.
  endpoint = endpoint.replace(/^tcp:\/\/(0\.0\.0\.0|\[::\]|\*):/, `tcp://${hostname()}:`);
  opts.log('debug', `master listening on ${endpoint}`);
  return new ZmqMaster(sock, endpoint, opts.secret, heartbeatMs, workerTimeoutMs, opts.log);
}

class ZmqWorker implements WorkerCommunicator {
  readonly transport = 'zmq' as const;
  private readonly inbox = new Inbox<MasterMessage>();
  private readonly timer: NodeJS.Timeout;
  private readonly tickMs: number;
  private now = Date.now();
  private lastTick = this.now;
  private lastSeen = this.now;
  private lastSent = this.now;
  private closed = false;

  constructor(
    private readonly sock: Dealer,
    readonly rank: number,
    private readonly heartbeatMs: number,
    private readonly masterTimeoutMs: number,
    private readonly log: TransportLog,
  ) {
    this.tickMs = Math.max(5, Math.min(heartbeatMs, Math.floor(masterTimeoutMs / 4)));
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
    void this.pump();
  }

  send(m: WorkerMessage): void {
    if (this.closed) {
      this.log('debug', `dropped ${m.type}: the connection to the master is closed`);
      return;
    }
    this.lastSent = this.now;
    post(this.sock, encodeWorker(m), this.log);
  }

  receive(): Promise<MasterMessage[] | null> {
    return this.inbox.next();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    post(this.sock, encodeBye('worker closed'), this.log);
    this.end(null);
  }

  /** Stop: reason null = closed by us, otherwise the master is gone. */
  private end(reason: string | null): void {
    if (this.closed) return;
    this.closed = true;
    if (reason !== null) {
      this.log(reason === 'master closed' ? 'debug' : 'info', `rank ${this.rank}: master gone: ${reason}`);
    }
    clearInterval(this.timer);
    this.sock.linger = reason === null ? Math.min(CLOSE_LINGER_MS, this.masterTimeoutMs) : 0;
    this.sock.close();
    this.inbox.close();
  }

  private async pump(): Promise<void> {
    const sock = this.sock;
    try {
      while (!this.closed) {
        const first = await sock.receive();
        this.now = Date.now();
        this.handle(first);
        for (let n = 0; n < DRAIN_MAX && !this.closed && sock.readable; n++)
          this.handle(await sock.receive());
        this.inbox.flush();
      }
    } catch (e) {
      if (!this.closed) this.end(`receive failed: ${errText(e)}`);
    }
  }

  private handle(frames: Buffer[]): void {
    if (this.closed) return;
    this.lastSeen = this.now;
    if (isControl(frames)) {
      let c: ControlFrame;
      try {
        c = decodeControl(frames);
      } catch (e) {
        this.end(`bad control frame: ${errText(e)}`);
        return;
      }
      if (c.type === BYE) this.end(c.reason);
      else if (c.type === REFUSED) this.end(`refused: ${c.reason}`);
      else this.log('debug', `rank ${this.rank}: ignored control frame 0x${c.type.toString(16)}`);
      return;
    }
    let m: MasterMessage;
    try {
      m = decodeMaster(frames);
    } catch (e) {
      const msg = `bad message from the master: ${errText(e)}`;
      this.send({ type: 'fatal', message: msg });
      this.end(msg);
      return;
    }
    if (m.type !== 'heartbeat') this.inbox.push(m);
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.lastTick - this.tickMs;
    this.lastTick = now;
    this.now = now;
    if (late > this.tickMs) this.lastSeen += late;
    if (now - this.lastSeen > this.masterTimeoutMs) {
      this.end(`no message for ${((now - this.lastSeen) / 1000).toFixed(1)} s`);
      return;
    }
    if (now - this.lastSent >= this.heartbeatMs) {
      this.lastSent = now;
      post(this.sock, WORKER_HEARTBEAT, this.log);
    }
  }
}

/**
 * Connect a worker's DEALER to the master and run the handshake; resolves once the master has
 * accepted it (with its rank), rejects with AuthError if refused or if the master cannot prove
 * it holds the secret, with TransportError if there is no answer within connectTimeoutMs.
 */
export async function connectWorker(opts: ZmqWorkerOptions): Promise<WorkerCommunicator> {
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const masterTimeoutMs = opts.masterTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectTimeoutMs = opts.connectTimeoutMs ?? masterTimeoutMs;
  checkUrl(opts.url);
  checkTimes(heartbeatMs, masterTimeoutMs, 'masterTimeoutMs');
  checkSecret(opts.secret);
  const info = infoBytes(opts.info);
  const sock = new Dealer({
    // A fixed identity lets the master recognise this worker after a reconnect.
    routingId: `w${randomBytes(12).toString('hex')}`,
    linger: 0,
    sendHighWaterMark: 0,
    receiveHighWaterMark: 0,
    sendTimeout: 0,
  });
  try {
    sock.connect(opts.url);
  } catch (e) {
    sock.close();
    throw new TransportError(`cannot connect to ${opts.url}: ${errText(e)}`);
  }
  const workerNonce = newNonce();
  post(sock, encodeHello(workerNonce), opts.log);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    sock.close();
  }, connectTimeoutMs);
  const fail = (e: Error): never => {
    clearTimeout(timer);
    if (!sock.closed) {
      post(sock, encodeBye(e.message), opts.log);
      sock.close();
    }
    throw e;
  };
  let masterNonce: Buffer | undefined;
  for (;;) {
    let frames: Buffer[];
    try {
      frames = await sock.receive();
    } catch (e) {
      if (timedOut) {
        throw new TransportError(`no answer from the master at ${opts.url} within ${connectTimeoutMs} ms`);
      }
      return fail(new TransportError(`connecting to ${opts.url}: ${errText(e)}`));
    }
    let c: ControlFrame;
    try {
      if (!isControl(frames)) throw new Error('a protocol message before the handshake ended');
      c = decodeControl(frames);
    } catch (e) {
      return fail(new AuthError(`handshake with the master at ${opts.url} failed: ${errText(e)}`));
    }
    if (c.type === CHALLENGE && masterNonce === undefined) {
      masterNonce = c.nonce;
      post(sock, encodeProof(info, workerProof(opts.secret, workerNonce, masterNonce, info)), opts.log);
    } else if (c.type === ACCEPTED && masterNonce !== undefined) {
      if (!proofMatches(masterProof(opts.secret, masterNonce, workerNonce, c.rank), c.mac)) {
        return fail(new AuthError(`the master at ${opts.url} does not hold the cluster secret`));
      }
      clearTimeout(timer);
      opts.log('debug', `joined the master at ${opts.url} as rank ${c.rank}`);
      return new ZmqWorker(sock, c.rank, heartbeatMs, masterTimeoutMs, opts.log);
    } else if (c.type === REFUSED) {
      clearTimeout(timer);
      sock.close();
      throw new AuthError(`the master at ${opts.url} refused this worker: ${c.reason}`);
    } else {
      return fail(
        new AuthError(
          `handshake with the master at ${opts.url} failed: unexpected frame 0x${c.type.toString(16)}`,
        ),
      );
    }
  }
}
