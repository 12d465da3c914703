/**
 * The master <-> worker wire protocol: message types, and their encoding to byte frames.
 *
 * A message is a list of frames (a ZeroMQ multipart message; `packFrames` joins them into one
 * buffer for byte transports such as MPI). Frame 0 is a 2-byte header (type code, protocol
 * version) followed, for messages with a body, by UTF-8 JSON. Tasks and results travel as JSON
 * arrays (tuples), not objects, to keep the text short and the parse fast. Binary payloads
 * (stdout, stderr, forwarded file data, invocation records) go in frames 1..n, referenced from
 * the JSON by frame index: `null` = absent, `0` = present and empty, `k >= 1` = frame k.
 * Nothing is base64-encoded. Decoding validates every field and throws only `ProtocolError`.
 */

export const PROTOCOL_VERSION = 2;

export interface TaskCommand {
  /** Task index in the DAG. */
  id: number;
  attempt: number;
  name: string;
  argv: string[];
  pegasusId?: string;
  cpus: number;
  memory: number;
  pipeForwards?: [string, string][];
  fileForwards?: [string, string][];
  affinity?: number[];
  /** GPU device ids given to the task (CUDA_VISIBLE_DEVICES); absent when it asks for none. */
  gpus?: number[];
  /** Epoch ms after which the worker must not start the task (--max-wall-time); it returns it instead. */
  latestStart?: number;
}

export interface TaskResult {
  id: number;
  attempt: number;
  /** Raw wait status; -1 = launch failure. */
  raw: number;
  exitCode: number | null;
  signal: number | null;
  /** Epoch milliseconds. */
  start: number;
  /** Seconds. */
  duration: number;
  stdout?: Buffer;
  stderr?: Buffer;
  /** YAML invocation record text. */
  record?: string;
  /** [destination path, data]. */
  forwards?: [string, Buffer][];
  error?: string;
}

export interface Grant {
  cpus: number;
  memory: number;
}

export interface WorkerConfig {
  perTaskStdio: boolean;
  dagDir: string;
  strictLimits: boolean;
  setAffinity: boolean;
  noop: boolean;
  hostScript?: string;
  captureLimit: number;
  env: Record<string, string>;
}

export type MasterMessage =
  | { type: 'welcome'; rank: number; hostRank: number; config: WorkerConfig }
  /** `grant`: resources added to the worker's holding. */
  | { type: 'tasks'; grant: Grant; tasks: TaskCommand[] }
  /** End running tasks, report them, keep the connection. */
  | { type: 'stop'; signal: 'TERM' | 'KILL' }
  | { type: 'shutdown' }
  | { type: 'heartbeat' };

export type WorkerMessage =
  | { type: 'register'; hostname: string; cpus: number; memory: number; gpus: number; pid: number }
  /** Host script done (or none). */
  | { type: 'ready' }
  /** `rejected`: ids of tasks handed back unrun. */
  | { type: 'results'; results: TaskResult[]; released: Grant; rejected: number[] }
  | { type: 'fatal'; message: string }
  | { type: 'heartbeat' };

/** A malformed message: the message is one line saying what was wrong. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---- type codes (byte 0 of frame 0); 0xF0..0xFF are reserved for transport-internal frames

const M_WELCOME = 0x01;
const M_TASKS = 0x02;
const M_STOP = 0x03;
const M_SHUTDOWN = 0x04;
const M_HEARTBEAT = 0x05;
const W_REGISTER = 0x11;
const W_READY = 0x12;
const W_RESULTS = 0x13;
const W_FATAL = 0x14;
const W_HEARTBEAT = 0x15;

/** Lowest type code reserved for transport-internal frames (handshake, bye). */
export const TRANSPORT_TYPE_MIN = 0xf0;

const MAX_INT = 0x7fffffff;
const EMPTY = Buffer.alloc(0);

function header(type: number): Buffer {
  return Buffer.from([type, PROTOCOL_VERSION]);
}
const SHUTDOWN_FRAME = header(M_SHUTDOWN);
const MASTER_HEARTBEAT_FRAME = header(M_HEARTBEAT);
const READY_FRAME = header(W_READY);
const WORKER_HEARTBEAT_FRAME = header(W_HEARTBEAT);

function withJson(type: number, body: unknown): Buffer {
  const json = JSON.stringify(body);
  const buf = Buffer.allocUnsafe(2 + Buffer.byteLength(json));
  buf[0] = type;
  buf[1] = PROTOCOL_VERSION;
  buf.write(json, 2, 'utf8');
  return buf;
}

// ---- encoding

function taskTuple(t: TaskCommand): unknown[] {
  return [
    t.id,
    t.attempt,
    t.name,
    t.argv,
    t.pegasusId ?? null,
    t.cpus,
    t.memory,
    t.pipeForwards ?? null,
    t.fileForwards ?? null,
    t.affinity ?? null,
    t.latestStart ?? null,
    t.gpus ?? null,
  ];
}

export function encodeMaster(m: MasterMessage): Buffer[] {
  switch (m.type) {
    case 'welcome':
      return [withJson(M_WELCOME, [m.rank, m.hostRank, m.config])];
    case 'tasks': {
      const tasks = new Array(m.tasks.length);
      for (let i = 0; i < m.tasks.length; i++) tasks[i] = taskTuple(m.tasks[i]);
      return [withJson(M_TASKS, [m.grant.cpus, m.grant.memory, tasks])];
    }
    case 'stop':
      return [withJson(M_STOP, m.signal)];
    case 'shutdown':
      return [SHUTDOWN_FRAME];
    case 'heartbeat':
      return [MASTER_HEARTBEAT_FRAME];
  }
  throw new ProtocolError(`cannot encode master message of type ${String((m as { type: unknown }).type)}`);
}

export function encodeWorker(m: WorkerMessage): Buffer[] {
  switch (m.type) {
    case 'register':
      return [withJson(W_REGISTER, [m.hostname, m.cpus, m.memory, m.gpus, m.pid])];
    case 'ready':
      return [READY_FRAME];
    case 'results': {
      const frames: Buffer[] = [EMPTY];
      const ref = (b: Buffer | undefined): number | null => {
        if (b === undefined) return null;
        if (b.length === 0) return 0;
        frames.push(b);
        return frames.length - 1;
      };
      const results = new Array(m.results.length);
      for (let i = 0; i < m.results.length; i++) {
        const r = m.results[i];
        let fw: [string, number | null][] | null = null;
        if (r.forwards !== undefined) {
          fw = new Array(r.forwards.length);
          for (let j = 0; j < r.forwards.length; j++) fw[j] = [r.forwards[j][0], ref(r.forwards[j][1])];
        }
        results[i] = [
          r.id,
          r.attempt,
          r.raw,
          r.exitCode,
          r.signal,
          r.start,
          r.duration,
          ref(r.stdout),
          ref(r.stderr),
          r.record === undefined ? null : ref(Buffer.from(r.record, 'utf8')),
          fw,
          r.error ?? null,
        ];
      }
      frames[0] = withJson(W_RESULTS, [m.released.cpus, m.released.memory, m.rejected, results]);
      return frames;
    }
    case 'fatal':
      return [withJson(W_FATAL, m.message)];
    case 'heartbeat':
      return [WORKER_HEARTBEAT_FRAME];
  }
  throw new ProtocolError(`cannot encode worker message of type ${String((m as { type: unknown }).type)}`);
}

// ---- decoding: every check throws ProtocolError with a one-line description

function fail(what: string): never {
  throw new ProtocolError(what);
}

function int(v: unknown, what: string, min: number, max = MAX_INT): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${what}: expected an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    fail(`${what}: expected a finite number >= 0, got ${show(v)}`);
  }
  return v;
}

function str(v: unknown, what: string, allowEmpty = true): string {
  if (typeof v !== 'string' || (!allowEmpty && v.length === 0)) {
    fail(`${what}: expected a ${allowEmpty ? '' : 'non-empty '}string, got ${show(v)}`);
  }
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(`${what}: expected a boolean, got ${show(v)}`);
  return v;
}

function arr(v: unknown, what: string, len?: number): unknown[] {
  if (!Array.isArray(v)) fail(`${what}: expected an array, got ${show(v)}`);
  if (len !== undefined && v.length !== len) fail(`${what}: expected ${len} elements, got ${v.length}`);
  return v;
}

function strings(v: unknown, what: string): string[] {
  const a = arr(v, what);
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') str(a[i], `${what}[${i}]`);
  return a as string[];
}

function pairs(v: unknown, what: string): [string, string][] | undefined {
  if (v === null) return undefined;
  const a = arr(v, what);
  for (let i = 0; i < a.length; i++) {
    const p = arr(a[i], `${what}[${i}]`, 2);
    str(p[0], `${what}[${i}][0]`, false);
    str(p[1], `${what}[${i}][1]`, false);
  }
  return a as [string, string][];
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

function parseHeader(frames: Buffer[], side: string): number {
  if (!Array.isArray(frames) || frames.length === 0) fail(`${side} message: no frames`);
  const h = frames[0];
  if (!Buffer.isBuffer(h) || h.length < 2) fail(`${side} message: header frame shorter than 2 bytes`);
  if (h[1] !== PROTOCOL_VERSION) {
    fail(`${side} message: protocol version ${h[1]}, expected ${PROTOCOL_VERSION}`);
  }
  return h[0];
}

function body(frames: Buffer[], what: string): unknown {
  const h = frames[0];
  if (h.length === 2) fail(`${what}: missing JSON body`);
  try {
    return JSON.parse(h.toString('utf8', 2));
  } catch (e) {
    return fail(`${what}: bad JSON body (${(e as Error).message.split('\n')[0]})`);
  }
}

function bare(frames: Buffer[], what: string): void {
  if (frames[0].length !== 2) fail(`${what}: unexpected body`);
  if (frames.length !== 1) fail(`${what}: unexpected extra frames`);
}

function decodeTask(v: unknown, i: number): TaskCommand {
  const what = `tasks[${i}]`;
  const t = arr(v, what, 12);
  const affinity = t[9] === null ? undefined : arr(t[9], `${what}.affinity`);
  if (affinity !== undefined) {
    for (let k = 0; k < affinity.length; k++) int(affinity[k], `${what}.affinity[${k}]`, 0);
  }
  const gpus = t[11] === null ? undefined : arr(t[11], `${what}.gpus`);
  if (gpus !== undefined) for (let k = 0; k < gpus.length; k++) int(gpus[k], `${what}.gpus[${k}]`, 0);
  return {
    id: int(t[0], `${what}.id`, 0),
    attempt: int(t[1], `${what}.attempt`, 0),
    name: str(t[2], `${what}.name`, false),
    argv: strings(t[3], `${what}.argv`),
    pegasusId: t[4] === null ? undefined : str(t[4], `${what}.pegasusId`),
    cpus: int(t[5], `${what}.cpus`, 0),
    memory: num(t[6], `${what}.memory`),
    pipeForwards: pairs(t[7], `${what}.pipeForwards`),
    fileForwards: pairs(t[8], `${what}.fileForwards`),
    affinity: affinity as number[] | undefined,
    latestStart: t[10] === null ? undefined : num(t[10], `${what}.latestStart`),
    gpus: gpus as number[] | undefined,
  };
}

function frameRef(frames: Buffer[], v: unknown, what: string): Buffer | undefined {
  if (v === null) return undefined;
  const k = int(v, what, 0, frames.length - 1);
  if (k === 0) return EMPTY;
  const f = frames[k];
  if (!Buffer.isBuffer(f)) fail(`${what}: frame ${k} is not a buffer`);
  return f;
}

function decodeResult(frames: Buffer[], v: unknown, i: number): TaskResult {
  const what = `results[${i}]`;
  const r = arr(v, what, 12);
  const exitCode = r[3] === null ? null : int(r[3], `${what}.exitCode`, 0, 255);
  const signal = r[4] === null ? null : int(r[4], `${what}.signal`, 1, 127);
  const record = frameRef(frames, r[9], `${what}.record`);
  let forwards: [string, Buffer][] | undefined;
  if (r[10] !== null) {
    const fw = arr(r[10], `${what}.forwards`);
    forwards = new Array(fw.length);
    for (let k = 0; k < fw.length; k++) {
      const p = arr(fw[k], `${what}.forwards[${k}]`, 2);
      const data = frameRef(frames, p[1], `${what}.forwards[${k}][1]`);
      if (data === undefined) fail(`${what}.forwards[${k}][1]: expected a frame index, got null`);
      forwards[k] = [str(p[0], `${what}.forwards[${k}][0]`, false), data];
    }
  }
  return {
    id: int(r[0], `${what}.id`, 0),
    attempt: int(r[1], `${what}.attempt`, 0),
    raw: int(r[2], `${what}.raw`, -1),
    exitCode,
    signal,
    start: num(r[5], `${what}.start`),
    duration: num(r[6], `${what}.duration`),
    stdout: frameRef(frames, r[7], `${what}.stdout`),
    stderr: frameRef(frames, r[8], `${what}.stderr`),
    record: record === undefined ? undefined : record.toString('utf8'),
    forwards,
    error: r[11] === null ? undefined : str(r[11], `${what}.error`),
  };
}

function decodeConfig(v: unknown): WorkerConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(`welcome.config: expected an object, got ${show(v)}`);
  }
  const c = v as Record<string, unknown>;
  const env = c.env;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    fail(`welcome.config.env: expected an object, got ${show(env)}`);
  }
  for (const k of Object.keys(env)) str((env as Record<string, unknown>)[k], `welcome.config.env.${k}`);
  return {
    perTaskStdio: bool(c.perTaskStdio, 'welcome.config.perTaskStdio'),
    dagDir: str(c.dagDir, 'welcome.config.dagDir'),
    strictLimits: bool(c.strictLimits, 'welcome.config.strictLimits'),
    setAffinity: bool(c.setAffinity, 'welcome.config.setAffinity'),
    noop: bool(c.noop, 'welcome.config.noop'),
    hostScript: c.hostScript === undefined ? undefined : str(c.hostScript, 'welcome.config.hostScript'),
    captureLimit: int(c.captureLimit, 'welcome.config.captureLimit', 0, Number.MAX_SAFE_INTEGER),
    env: env as Record<string, string>,
  };
}

function decodeMasterUnsafe(frames: Buffer[]): MasterMessage {
  const type = parseHeader(frames, 'master');
  switch (type) {
    case M_WELCOME: {
      const b = arr(body(frames, 'welcome'), 'welcome', 3);
      return {
        type: 'welcome',
        rank: int(b[0], 'welcome.rank', 1),
        hostRank: int(b[1], 'welcome.hostRank', 0),
        config: decodeConfig(b[2]),
      };
    }
    case M_TASKS: {
      const b = arr(body(frames, 'tasks'), 'tasks', 3);
      const list = arr(b[2], 'tasks.tasks');
      const tasks = new Array<TaskCommand>(list.length);
      for (let i = 0; i < list.length; i++) tasks[i] = decodeTask(list[i], i);
      return {
        type: 'tasks',
        grant: { cpus: int(b[0], 'tasks.grant.cpus', 0), memory: num(b[1], 'tasks.grant.memory') },
        tasks,
      };
    }
    case M_STOP: {
      const s = body(frames, 'stop');
      if (s !== 'TERM' && s !== 'KILL') fail(`stop.signal: expected "TERM" or "KILL", got ${show(s)}`);
      return { type: 'stop', signal: s };
    }
    case M_SHUTDOWN:
      bare(frames, 'shutdown');
      return { type: 'shutdown' };
    case M_HEARTBEAT:
      bare(frames, 'heartbeat');
      return { type: 'heartbeat' };
  }
  return fail(`master message: unknown type code 0x${type.toString(16)}`);
}

function decodeWorkerUnsafe(frames: Buffer[]): WorkerMessage {
  const type = parseHeader(frames, 'worker');
  switch (type) {
    case W_REGISTER: {
      const b = arr(body(frames, 'register'), 'register', 5);
      return {
        type: 'register',
        hostname: str(b[0], 'register.hostname', false),
        cpus: int(b[1], 'register.cpus', 0),
        memory: num(b[2], 'register.memory'),
        gpus: int(b[3], 'register.gpus', 0),
        pid: int(b[4], 'register.pid', 0),
      };
    }
    case W_READY:
      bare(frames, 'ready');
      return { type: 'ready' };
    case W_RESULTS: {
      const b = arr(body(frames, 'results'), 'results', 4);
      const rejected = arr(b[2], 'results.rejected');
      for (let i = 0; i < rejected.length; i++) int(rejected[i], `results.rejected[${i}]`, 0);
      const list = arr(b[3], 'results.results');
      const results = new Array<TaskResult>(list.length);
      for (let i = 0; i < list.length; i++) results[i] = decodeResult(frames, list[i], i);
      return {
        type: 'results',
        results,
        released: {
          cpus: int(b[0], 'results.released.cpus', 0),
          memory: num(b[1], 'results.released.memory'),
        },
        rejected: rejected as number[],
      };
    }
    case W_FATAL:
      return { type: 'fatal', message: str(body(frames, 'fatal'), 'fatal.message') };
    case W_HEARTBEAT:
      bare(frames, 'heartbeat');
      return { type: 'heartbeat' };
  }
  return fail(`worker message: unknown type code 0x${type.toString(16)}`);
}

function guard<T>(decode: (frames: Buffer[]) => T, frames: Buffer[]): T {
  try {
    return decode(frames);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`undecodable message: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
}

/** Decode a message from the master; throws ProtocolError (and nothing else) on bad input. */
export function decodeMaster(frames: Buffer[]): MasterMessage {
  return guard(decodeMasterUnsafe, frames);
}

/** Decode a message from a worker; throws ProtocolError (and nothing else) on bad input. */
export function decodeWorker(frames: Buffer[]): WorkerMessage {
  return guard(decodeWorkerUnsafe, frames);
}

// ---- frames <-> one buffer (for byte transports): u32le count, count x u32le length, data

/** Most frames accepted by unpackFrames. */
export const MAX_FRAMES = 1 << 20;

export function packFrames(frames: Buffer[]): Buffer {
  let total = 4 + 4 * frames.length;
  for (let i = 0; i < frames.length; i++) total += frames[i].length;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(frames.length, 0);
  let pos = 4 + 4 * frames.length;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    out.writeUInt32LE(f.length, 4 + 4 * i);
    f.copy(out, pos);
    pos += f.length;
  }
  return out;
}

/** Split a packFrames buffer; the frames are views into `b` (no copy). */
export function unpackFrames(b: Buffer): Buffer[] {
  if (!Buffer.isBuffer(b) || b.length < 4) throw new ProtocolError('packed message: shorter than 4 bytes');
  const n = b.readUInt32LE(0);
  if (n === 0 || n > MAX_FRAMES) throw new ProtocolError(`packed message: bad frame count ${n}`);
  let pos = 4 + 4 * n;
  if (pos > b.length) throw new ProtocolError(`packed message: ${n} frames do not fit in ${b.length} bytes`);
  const frames = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) {
    const len = b.readUInt32LE(4 + 4 * i);
    if (pos + len > b.length) {
      throw new ProtocolError(`packed message: frame ${i} (${len} bytes) runs past the end`);
    }
    frames[i] = b.subarray(pos, pos + len);
    pos += len;
  }
  if (pos !== b.length) throw new ProtocolError(`packed message: ${b.length - pos} trailing bytes`);
  return frames;
}
