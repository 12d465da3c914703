import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  loadOrCreateSecret,
  masterProof,
  newNonce,
  proofMatches,
  SECRET_ENV,
  secretEnv,
  secretFromEnv,
  workerProof,
} from '../src/auth.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pts-auth-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadOrCreateSecret', () => {
  it('creates a 0600 file with 32 random bytes, then reads the same secret back', async () => {
    const path = join(dir, 'secret');
    const a = await loadOrCreateSecret(path);
    expect(a.length).toBe(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(a.toString('hex'));
    const b = await loadOrCreateSecret(path);
    expect(b.equals(a)).toBe(true);
  });

  it('without a path returns fresh random bytes', async () => {
    const a = await loadOrCreateSecret();
    const b = await loadOrCreateSecret();
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
  });

  it('refuses a file others can read', async () => {
    const path = join(dir, 'secret');
    await writeFile(path, 'ab'.repeat(32));
    await chmod(path, 0o644);
    await expect(loadOrCreateSecret(path)).rejects.toThrow(AuthError);
    await expect(loadOrCreateSecret(path)).rejects.toThrow(/mode 644\); expected mode 600/);
  });

  it('refuses content that is not hex or too short', async () => {
    const path = join(dir, 'secret');
    await writeFile(path, 'not hex at all', { mode: 0o600 });
    await expect(loadOrCreateSecret(path)).rejects.toThrow(/expected the secret as hex/);
    await writeFile(path, 'abcd\n', { mode: 0o600 });
    await expect(loadOrCreateSecret(path)).rejects.toThrow(/too short \(2 bytes/);
  });

  it('reports a directory it cannot create the file in', async () => {
    await expect(loadOrCreateSecret(join(dir, 'missing', 'secret'))).rejects.toThrow(
      /cannot create the secret file/,
    );
  });
});

describe('secretFromEnv', () => {
  it('reads hex, returns undefined when unset, rejects garbage', () => {
    const s = Buffer.alloc(32, 7);
    expect(secretFromEnv(secretEnv(s))?.equals(s)).toBe(true);
    expect(secretFromEnv({})).toBeUndefined();
    expect(() => secretFromEnv({ [SECRET_ENV]: 'zz' })).toThrow(AuthError);
  });
});

describe('proofs', () => {
  const secret = Buffer.alloc(32, 1);
  const wn = newNonce();
  const mn = newNonce();
  const info = Buffer.from('["h",1,1,1]');

  it('depend on the secret, both nonces and the info', () => {
    const p = workerProof(secret, wn, mn, info);
    expect(proofMatches(p, workerProof(secret, wn, mn, info))).toBe(true);
    expect(proofMatches(p, workerProof(Buffer.alloc(32, 2), wn, mn, info))).toBe(false);
    expect(proofMatches(p, workerProof(secret, mn, wn, info))).toBe(false);
    expect(proofMatches(p, workerProof(secret, wn, mn, Buffer.from('["h",2,1,1]')))).toBe(false);
  });

  it('differ between master and worker, and per rank', () => {
    expect(proofMatches(workerProof(secret, wn, mn, Buffer.alloc(0)), masterProof(secret, mn, wn, 1))).toBe(
      false,
    );
    expect(proofMatches(masterProof(secret, mn, wn, 1), masterProof(secret, mn, wn, 2))).toBe(false);
  });

  it('a proof of the wrong length is a mismatch, not an exception', () => {
    expect(proofMatches(masterProof(secret, mn, wn, 1), Buffer.alloc(3))).toBe(false);
  });
});
