/**
 * Transport-internal frames of the ZeroMQ transport: the handshake and the goodbye. They share
 * the protocol's frame-0 layout (type byte, version byte, body) with type codes >= 0xF0, which
 * protocol.ts never uses, so one look at byte 0 tells them apart from protocol messages.
 *
 *   HELLO     w->m  [F1 01]            | worker nonce (32 bytes)
 *   CHALLENGE m->w  [F2 01]            | master nonce (32 bytes)
 *   PROOF     w->m  [F3 01] info JSON  | HMAC (32 bytes)
 *   ACCEPTED  m->w  [F4 01]            | rank (u32 BE) | HMAC (32 bytes)
 *   REFUSED   m->w  [F5 01] reason     (UTF-8)
 *   BYE       both  [F6 01] reason     (UTF-8): the sender is closing; the peer is gone
 */
import { NONCE_BYTES } from '../../auth.js';
import type { WorkerInfo } from '../../communicator.js';
import { ProtocolError, TRANSPORT_TYPE_MIN } from '../../protocol.js';

export const CONTROL_VERSION = 1;
export const HELLO = 0xf1;
export const CHALLENGE = 0xf2;
export const PROOF = 0xf3;
export const ACCEPTED = 0xf4;
export const REFUSED = 0xf5;
export const BYE = 0xf6;

const MAC_BYTES = 32;
const MAX_HOSTNAME = 255;

export type ControlFrame =
  | { type: typeof HELLO; nonce: Buffer }
  | { type: typeof CHALLENGE; nonce: Buffer }
  | { type: typeof PROOF; infoBytes: Buffer; info: WorkerInfo; mac: Buffer }
  | { type: typeof ACCEPTED; rank: number; mac: Buffer }
  | { type: typeof REFUSED; reason: string }
  | { type: typeof BYE; reason: string };

/** True when frame 0 carries a control frame rather than a protocol message. */
export function isControl(frames: Buffer[]): boolean {
  return frames.length > 0 && frames[0].length >= 1 && frames[0][0] >= TRANSPORT_TYPE_MIN;
}

function head(type: number, text?: string | Buffer): Buffer {
  const h = Buffer.from([type, CONTROL_VERSION]);
  if (text === undefined) return h;
  return Buffer.concat([h, typeof text === 'string' ? Buffer.from(text, 'utf8') : text]);
}

export const encodeHello = (nonce: Buffer): Buffer[] => [head(HELLO), nonce];
export const encodeChallenge = (nonce: Buffer): Buffer[] => [head(CHALLENGE), nonce];
export const encodeProof = (infoBytes: Buffer, mac: Buffer): Buffer[] => [head(PROOF, infoBytes), mac];
export function encodeAccepted(rank: number, mac: Buffer): Buffer[] {
  const r = Buffer.alloc(4);
  r.writeUInt32BE(rank);
  return [head(ACCEPTED), r, mac];
}
export const encodeRefused = (reason: string): Buffer[] => [head(REFUSED, reason)];
export const encodeBye = (reason: string): Buffer[] => [head(BYE, reason)];

/** The bytes a worker sends (and MACs) as its info. */
export function infoBytes(info: WorkerInfo): Buffer {
  return Buffer.from(JSON.stringify([info.hostname, info.cpus, info.memory, info.gpus, info.pid]), 'utf8');
}

function fail(msg: string): never {
  throw new ProtocolError(msg);
}

function parseInfo(b: Buffer): WorkerInfo {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch {
    fail('PROOF: worker info is not JSON');
  }
  if (!Array.isArray(v) || v.length !== 5)
    fail('PROOF: worker info is not [hostname, cpus, memory, gpus, pid]');
  const [hostname, cpus, memory, gpus, pid] = v as unknown[];
  if (typeof hostname !== 'string' || hostname.length === 0 || hostname.length > MAX_HOSTNAME) {
    fail('PROOF: bad hostname');
  }
  if (typeof cpus !== 'number' || !Number.isInteger(cpus) || cpus < 0 || cpus > 1 << 20)
    fail('PROOF: bad cpus');
  if (typeof memory !== 'number' || !Number.isFinite(memory) || memory < 0) fail('PROOF: bad memory');
  if (typeof gpus !== 'number' || !Number.isInteger(gpus) || gpus < 0 || gpus > 1 << 10)
    fail('PROOF: bad gpus');
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0 || pid > 0x7fffffff)
    fail('PROOF: bad pid');
  return { hostname, cpus, memory, gpus, pid };
}

function exact(frames: Buffer[], n: number, name: string): void {
  if (frames.length !== n) fail(`${name}: expected ${n} frames, got ${frames.length}`);
}

function sized(b: Buffer, n: number, name: string): Buffer {
  if (b.length !== n) fail(`${name}: expected ${n} bytes, got ${b.length}`);
  return b;
}

/** Parse a control frame; throws ProtocolError (only) when malformed. */
export function decodeControl(frames: Buffer[]): ControlFrame {
  const h = frames[0];
  if (h === undefined || h.length < 2) fail('control frame shorter than 2 bytes');
  if (h[1] !== CONTROL_VERSION) fail(`control frame version ${h[1]}, expected ${CONTROL_VERSION}`);
  switch (h[0]) {
    case HELLO:
      exact(frames, 2, 'HELLO');
      return { type: HELLO, nonce: sized(frames[1], NONCE_BYTES, 'HELLO nonce') };
    case CHALLENGE:
      exact(frames, 2, 'CHALLENGE');
      return { type: CHALLENGE, nonce: sized(frames[1], NONCE_BYTES, 'CHALLENGE nonce') };
    case PROOF: {
      exact(frames, 2, 'PROOF');
      const infoBytes = h.subarray(2);
      return {
        type: PROOF,
        infoBytes,
        info: parseInfo(infoBytes),
        mac: sized(frames[1], MAC_BYTES, 'PROOF mac'),
      };
    }
    case ACCEPTED: {
      exact(frames, 3, 'ACCEPTED');
      const rank = sized(frames[1], 4, 'ACCEPTED rank').readUInt32BE(0);
      if (rank < 1) fail('ACCEPTED: rank 0');
      return { type: ACCEPTED, rank, mac: sized(frames[2], MAC_BYTES, 'ACCEPTED mac') };
    }
    case REFUSED:
      return { type: REFUSED, reason: h.toString('utf8', 2, Math.min(h.length, 2 + 1000)) };
    case BYE:
      return { type: BYE, reason: h.toString('utf8', 2, Math.min(h.length, 2 + 1000)) };
  }
  return fail(`unknown control frame type 0x${h[0].toString(16)}`);
}
