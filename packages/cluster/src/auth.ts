/**
 * The run's shared secret, and the HMAC proofs of the worker/master handshake.
 *
 * Worker -> HELLO(worker nonce); master -> CHALLENGE(master nonce); worker -> PROOF =
 * HMAC-SHA256(secret, "pegasus-ts-cluster worker" || wnonce || mnonce || info JSON);
 * master -> ACCEPTED(rank, HMAC-SHA256(secret, "pegasus-ts-cluster master" || mnonce || wnonce
 * || rank)). Both sides check with timingSafeEqual, so each proves to the other that it holds
 * the secret (a worker runs whatever commands its master sends, so it must not trust an
 * impostor either). The nonces make a recorded proof useless for another connection.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { UserError } from './errors.js';

/** Environment variable holding the secret as hex (how a master hands it to its workers). */
export const SECRET_ENV = 'PEGASUS_TS_CLUSTER_SECRET';
/** Bytes of a generated secret. */
export const SECRET_BYTES = 32;
/** Fewest secret bytes accepted. */
export const MIN_SECRET_BYTES = 16;
export const NONCE_BYTES = 32;

/** A handshake refused, or a bad secret (file, mode, content). One line, for the user. */
export class AuthError extends UserError {
  constructor(message: string, opts: { file?: string } = {}) {
    super(message, opts);
    this.name = 'AuthError';
  }
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function parseSecret(text: string, where: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
    throw new AuthError(`${where}: expected the secret as hex digits (an even number of them)`);
  }
  if (hex.length < 2 * MIN_SECRET_BYTES) {
    throw new AuthError(
      `${where}: secret too short (${hex.length / 2} bytes, expected at least ${MIN_SECRET_BYTES})`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/**
 * Read the secret (hex text) from `path`, which must be readable by its owner only (mode
 * 0600 or stricter); when `path` does not exist, create it (mode 0600) with 32 random bytes.
 * Without `path`, return 32 fresh random bytes.
 */
export async function loadOrCreateSecret(path?: string): Promise<Buffer> {
  if (path === undefined) return randomBytes(SECRET_BYTES);
  try {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const secret = randomBytes(SECRET_BYTES);
    try {
      await fh.writeFile(`${secret.toString('hex')}\n`);
    } finally {
      await fh.close();
    }
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AuthError(`${path}: cannot create the secret file (${(e as Error).message})`, { file: path });
    }
  }
  const st = await stat(path);
  if (!st.isFile()) throw new AuthError(`${path}: the secret file is not a regular file`, { file: path });
  if ((st.mode & 0o077) !== 0) {
    throw new AuthError(
      `${path}: the secret file is readable by others (mode ${(st.mode & 0o777).toString(8)}); expected mode 600`,
      { file: path },
    );
  }
  return parseSecret(await readFile(path, 'utf8'), path);
}

/** The secret from $PEGASUS_TS_CLUSTER_SECRET (hex), or undefined when it is not set. */
export function secretFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const v = env[SECRET_ENV];
  if (v === undefined || v === '') return undefined;
  return parseSecret(v, `$${SECRET_ENV}`);
}

/** `{ PEGASUS_TS_CLUSTER_SECRET: hex }`, to merge into a spawned worker's environment. */
export function secretEnv(secret: Buffer): Record<string, string> {
  return { [SECRET_ENV]: secret.toString('hex') };
}

const WORKER_LABEL = Buffer.from('pegasus-ts-cluster worker\0');
const MASTER_LABEL = Buffer.from('pegasus-ts-cluster master\0');

/** The worker's proof: HMAC over both nonces and the exact info bytes it sends. */
export function workerProof(secret: Buffer, workerNonce: Buffer, masterNonce: Buffer, info: Buffer): Buffer {
  return createHmac('sha256', secret)
    .update(WORKER_LABEL)
    .update(workerNonce)
    .update(masterNonce)
    .update(info)
    .digest();
}

/** The master's proof, sent with the rank it assigns. */
export function masterProof(secret: Buffer, masterNonce: Buffer, workerNonce: Buffer, rank: number): Buffer {
  const r = Buffer.alloc(4);
  r.writeUInt32BE(rank);
  return createHmac('sha256', secret)
    .update(MASTER_LABEL)
    .update(masterNonce)
    .update(workerNonce)
    .update(r)
    .digest();
}

/** Constant-time comparison; false (not an exception) on a length mismatch. */
export function proofMatches(expected: Buffer, got: Buffer): boolean {
  return got.length === expected.length && timingSafeEqual(expected, got);
}
