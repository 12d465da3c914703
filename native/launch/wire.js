// The JavaScript side of the wire format between Node and pegasus-ts-spawner.
// The C side is src/wire.h + src/spawner.c; README.md documents the frames.
// Frame: u32 length (header included), u32 type, payload; little-endian;
// str = u32 byte length, bytes, NUL.

/** Sent first in SETUP; the spawner exits (65) on a mismatch. 2: LAUNCH `after`, cancelled results. */
export const WIRE_VERSION = 3;

export const REQ_SETUP = 1;
export const REQ_LAUNCH = 2;
export const REQ_SIGNAL = 3;
export const RES_RESULT = 1;

export const RESULT_TIMED_OUT = 1;
export const RESULT_CANCELLED = 2;

export const STDIO_INHERIT = 0;
export const STDIO_NULL = 1;
export const STDIO_FILE = 2;
export const STDIO_APPEND = 3;
export const STDIO_CAPTURE = 4;

export const STAGES = ['none', 'spawn', 'exec', 'cwd', 'stdio', 'capture', 'limits', 'request'];

const MAX_U32 = 0xffffffff;

/** Accumulates request frames; take() returns them as one Buffer (one write for many requests). */
export class RequestEncoder {
  constructor() {
    this.buf = Buffer.allocUnsafe(64 * 1024);
    this.len = 0;
  }

  get pending() {
    return this.len;
  }

  ensure(n) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  u32(v) {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  i32(v) {
    this.ensure(4);
    this.buf.writeInt32LE(v | 0, this.len);
    this.len += 4;
  }

  f64(v) {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  str(s) {
    if (s.includes('\0'))
      throw new TypeError(`a string sent to the spawner contains a NUL byte: ${JSON.stringify(s)}`);
    const max = s.length * 3;
    this.ensure(max + 5);
    const n = this.buf.write(s, this.len + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.len);
    this.buf[this.len + 4 + n] = 0;
    this.len += n + 5;
  }

  begin(type) {
    const start = this.len;
    this.u32(0);
    this.u32(type);
    return start;
  }

  end(start) {
    this.buf.writeUInt32LE(this.len - start, start);
  }

  /**
   * spoolDir: '' = memfd; env: null = the spawner's own environment; holdMs: how long the spawner
   * may hold back the result of a task whose chained successor it started (0 = never).
   */
  setup(spoolDir, env, holdMs = 0) {
    const s = this.begin(REQ_SETUP);
    this.u32(WIRE_VERSION);
    this.str(spoolDir ?? '');
    this.u32(Math.max(0, Math.min(0xffffffff, Math.round((holdMs ?? 0) * 1000))));
    if (env) {
      const keys = Object.keys(env);
      this.u32(1);
      this.u32(keys.length);
      for (const k of keys) this.str(`${k}=${env[k]}`);
    } else {
      this.u32(0);
      this.u32(0);
    }
    this.end(s);
  }

  /**
   * r: { id, after (id of the task to wait for; 0/undefined = start now), clearEnv, timeout, grace, memoryMb, cpus: number[], argv: string[], cwd: string,
   *      env: string[] ("K=V"), stdio: [{kind, maxBytes, path}] x 3, extra: [{fd, maxBytes, envVar}] }
   */
  launch(r) {
    const at = this.len;
    try {
      this.encodeLaunch(r);
    } catch (e) {
      this.len = at; // no partial frame (a string with a NUL byte throws)
      throw e;
    }
  }

  encodeLaunch(r) {
    const s = this.begin(REQ_LAUNCH);
    this.u32(r.id);
    this.u32(r.after || 0);
    this.u32(r.clearEnv ? 1 : 0);
    this.f64(r.timeout || 0);
    this.f64(r.grace || 0);
    this.u32(r.memoryMb || 0);
    const cpus = r.cpus || [];
    this.u32(cpus.length);
    for (const c of cpus) this.u32(c);
    this.u32(r.argv.length);
    for (const a of r.argv) this.str(a);
    this.str(r.cwd || '');
    this.u32(r.env.length);
    for (const e of r.env) this.str(e);
    for (let i = 0; i < 3; i++) {
      const t = r.stdio[i];
      this.u32(t.kind);
      this.u32(Math.min(t.maxBytes || 0, MAX_U32));
      this.str(t.path || '');
    }
    const extra = r.extra || [];
    this.u32(extra.length);
    for (const x of extra) {
      this.u32(x.fd);
      this.u32(Math.min(x.maxBytes || 0, MAX_U32));
      this.str(x.envVar);
    }
    this.end(s);
  }

  signal(id, sig) {
    const s = this.begin(REQ_SIGNAL);
    this.u32(id);
    this.i32(sig);
    this.end(s);
  }

  /** The bytes encoded so far (a copy), and reset. */
  take() {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

const USAGE_KEYS = [
  'utime',
  'stime',
  'maxrss',
  'minflt',
  'majflt',
  'nswap',
  'inblock',
  'outblock',
  'msgsnd',
  'msgrcv',
  'nsignals',
  'nvcsw',
  'nivcsw',
];

function decodeResult(b, o, end) {
  const flags = b.readUInt32LE(o + 28);
  const r = {
    id: b.readUInt32LE(o + 8),
    pid: b.readInt32LE(o + 12),
    raw: b.readInt32LE(o + 16),
    errno: b.readInt32LE(o + 20),
    stage: STAGES[b.readUInt32LE(o + 24)] ?? 'spawn',
    timedOut: (flags & RESULT_TIMED_OUT) !== 0,
    cancelled: (flags & RESULT_CANCELLED) !== 0,
    startSec: b.readUInt32LE(o + 32),
    startNsec: b.readUInt32LE(o + 36),
    endSec: b.readUInt32LE(o + 40),
    endNsec: b.readUInt32LE(o + 44),
    usage: {},
    execPath: '',
    captures: [],
  };
  let p = o + 48;
  for (const k of USAGE_KEYS) {
    r.usage[k] = b.readDoubleLE(p);
    p += 8;
  }
  const sl = b.readUInt32LE(p);
  r.execPath = b.toString('utf8', p + 4, p + 4 + sl);
  p += sl + 5;
  const ncap = b.readUInt32LE(p);
  p += 4;
  for (let i = 0; i < ncap; i++) {
    const slot = b.readUInt32LE(p);
    const size = b.readDoubleLE(p + 4);
    const truncated = b.readUInt32LE(p + 12) !== 0;
    const n = b.readUInt32LE(p + 16);
    p += 20;
    r.captures.push({ slot, size, truncated, data: Buffer.from(b.subarray(p, p + n)) });
    p += n;
  }
  if (p !== end) throw new Error(`pegasus-ts-spawner: malformed result frame (${p - o} of ${end - o} bytes)`);
  return r;
}

/** Splits result bytes into frames; push() returns the results decoded from the bytes so far. */
export class ResultDecoder {
  constructor() {
    this.rest = null;
  }

  push(chunk) {
    let b = chunk;
    if (this.rest) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const out = [];
    let o = 0;
    while (b.length - o >= 8) {
      const len = b.readUInt32LE(o);
      if (len < 8) throw new Error(`pegasus-ts-spawner: bad result frame length ${len}`);
      if (b.length - o < len) break;
      const type = b.readUInt32LE(o + 4);
      if (type === RES_RESULT) out.push(decodeResult(b, o, o + len));
      o += len;
    }
    if (o < b.length) this.rest = Buffer.from(b.subarray(o));
    return out;
  }
}
