import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  confinePath,
  credentialFrom,
  generateToken,
  isAuthorized,
  isAuthorizedRequest,
  isLoopbackHost,
  requestPathSegments,
  resolveListenPolicy,
  SecurityError,
  selfSignedPair,
  TOKEN_COOKIE,
} from '../src/security/index.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The SecurityError `fn` throws (fails the test when it throws nothing or something else). */
async function refusal(fn: () => unknown): Promise<SecurityError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecurityError);
    return err as SecurityError;
  }
  throw new Error('expected a SecurityError');
}

describe('isLoopbackHost', () => {
  it('knows loopback addresses from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.org', '128.0.0.1', '::2'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('credentials', () => {
  it('accepts a token or a user and password, and refuses half or mixed ones', async () => {
    expect(credentialFrom({})).toBeUndefined();
    expect(credentialFrom({ token: 'abcdefgh' })).toEqual({ kind: 'token', token: 'abcdefgh' });
    expect(credentialFrom({ user: 'ann', password: 'pw' })).toEqual({
      kind: 'basic',
      user: 'ann',
      password: 'pw',
    });
    expect((await refusal(() => credentialFrom({ token: 'short' }))).message).toMatch(/at least 8/);
    expect((await refusal(() => credentialFrom({ user: 'ann' }))).message).toMatch(/needs a password/);
    expect((await refusal(() => credentialFrom({ password: 'pw' }))).message).toMatch(/needs a user/);
    expect((await refusal(() => credentialFrom({ user: 'a:b', password: 'pw' }))).message).toMatch(/':'/);
    expect((await refusal(() => credentialFrom({ token: 'abcdefgh', user: 'a' }))).message).toMatch(
      /not both/,
    );
  });

  it('checks bearer tokens, the token cookie and basic credentials', () => {
    const token = generateToken();
    expect(token.length).toBeGreaterThanOrEqual(40);
    const t = { kind: 'token', token } as const;
    expect(isAuthorized(`Bearer ${token}`, t)).toBe(true);
    expect(isAuthorized(`bearer ${token}`, t)).toBe(true);
    expect(isAuthorized(`Bearer ${token}x`, t)).toBe(false);
    expect(isAuthorized(`Bearer ${token.slice(1)}`, t)).toBe(false);
    expect(isAuthorized(undefined, t)).toBe(false);
    expect(isAuthorized(basic('x', token), t)).toBe(false);
    expect(isAuthorizedRequest({ cookie: `a=1; ${TOKEN_COOKIE}=${token}` }, t)).toBe(true);
    expect(isAuthorizedRequest({ cookie: `${TOKEN_COOKIE}=nope` }, t)).toBe(false);
    const b = { kind: 'basic', user: 'ann', password: 's3cret:x' } as const;
    expect(isAuthorized(basic('ann', 's3cret:x'), b)).toBe(true);
    expect(isAuthorized(basic('ann', 's3cret'), b)).toBe(false);
    expect(isAuthorized(basic('bob', 's3cret:x'), b)).toBe(false);
    expect(isAuthorized('Basic !!!', b)).toBe(false);
    expect(isAuthorized(`Bearer s3cret:x`, b)).toBe(false);
    expect(isAuthorizedRequest({ cookie: `${TOKEN_COOKIE}=s3cret:x` }, b)).toBe(false);
    // no credential: a loopback server lets every request in
    expect(isAuthorized(undefined, undefined)).toBe(true);
  });
});

describe('resolveListenPolicy', () => {
  it('listens on loopback by default, without TLS or credential', async () => {
    const p = await resolveListenPolicy({});
    expect(p).toEqual({ host: '127.0.0.1', loopback: true, tls: undefined, credential: undefined });
  });

  it('refuses to listen off loopback without TLS and a credential, naming what is missing', async () => {
    const both = await refusal(() => resolveListenPolicy({ host: '0.0.0.0' }));
    expect(both.message).toBe(
      'refusing to listen on 0.0.0.0 (not loopback) without TLS (--tls-cert and --tls-key, or --self-signed) ' +
        'and a credential (--token, or --user and --password)',
    );
    const noCred = await refusal(() => resolveListenPolicy({ host: '10.1.2.3', selfSigned: true }));
    expect(noCred.message).toMatch(/without a credential/);
    const noTls = await refusal(() => resolveListenPolicy({ host: '::', token: generateToken() }));
    expect(noTls.message).toMatch(/without TLS/);
    expect((await refusal(() => resolveListenPolicy({ certFile: 'c.pem' }))).message).toMatch(
      /needs its key/,
    );
  });

  it('names the certificate file that cannot be read or is not PEM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'service-tls-'));
    try {
      const cert = join(dir, 'cert.pem');
      await writeFile(cert, 'not a certificate\n');
      const bad = await refusal(() =>
        resolveListenPolicy({
          host: '0.0.0.0',
          certFile: cert,
          keyFile: join(dir, 'key.pem'),
          token: 'abcdefgh',
        }),
      );
      expect(bad.message).toBe(`${cert}: expected a PEM certificate (-----BEGIN ...-----)`);
      const missing = await refusal(() =>
        resolveListenPolicy({ certFile: join(dir, 'none.pem'), keyFile: join(dir, 'key.pem') }),
      );
      expect(missing.message).toBe(`${join(dir, 'none.pem')}: cannot read the TLS certificate (ENOENT)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves real TLS with a generated self-signed pair that a client pinning it accepts', async () => {
    const policy = await resolveListenPolicy({ host: '0.0.0.0', selfSigned: true, token: 'abcdefgh' });
    expect(policy.loopback).toBe(false);
    expect(policy.credential).toEqual({ kind: 'token', token: 'abcdefgh' });
    const tls = policy.tls!;
    expect(tls.cert).toMatch(/-----BEGIN CERTIFICATE-----/);
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      res.writeHead(isAuthorized(req.headers.authorization, policy.credential) ? 200 : 401).end('hi');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, ca: tls.cert, headers, servername: 'localhost' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    try {
      expect(await get({})).toBe(401);
      expect(await get({ authorization: 'Bearer abcdefgh' })).toBe(200);
    } finally {
      server.close();
    }
  });

  it('generates a pair whose certificate names the host', async () => {
    const pair = await selfSignedPair('dash.example.org');
    const { X509Certificate } = await import('node:crypto');
    const x = new X509Certificate(pair.cert);
    expect(x.subjectAltName).toContain('DNS:dash.example.org');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(pair.key))).toBe(true);
  });
});

describe('requestPathSegments', () => {
  it('splits plain relative paths', () => {
    expect(requestPathSegments('')).toEqual([]);
    expect(requestPathSegments('.')).toEqual([]);
    expect(requestPathSegments('a/./b//c.txt')).toEqual(['a', 'b', 'c.txt']);
    expect(requestPathSegments('..a/b..')).toEqual(['..a', 'b..']);
  });

  it.each([
    ['..', "'..' is not allowed"],
    ['a/../../etc/passwd', "'..' is not allowed"],
    ['/etc/passwd', 'expected a relative path'],
    ['C:/Windows', 'expected a relative path'],
    ['a\\..\\b', 'backslashes are not allowed'],
    ['%2e%2e/etc', "'%' is not allowed (encoded paths are refused)"],
    ['..%2fetc', "'%' is not allowed (encoded paths are refused)"],
    ['%252e%252e%252f', "'%' is not allowed (encoded paths are refused)"],
    ['a\u0000b', 'control characters are not allowed'],
  ])('refuses %j', async (path, why) => {
    const err = await refusal(() => requestPathSegments(path));
    expect(err.status).toBe(400);
    expect(err.message).toBe(`path ${JSON.stringify(path)}: ${why}`);
  });
});

describe('confinePath', () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'service-confine-'));
    root = join(base, 'run0001');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'a.txt'), 'a');
    await writeFile(join(base, 'secret.txt'), 'secret');
    await symlink(join(base, 'secret.txt'), join(root, 'out-file'));
    await symlink(base, join(root, 'out-dir'));
    await symlink('sub/a.txt', join(root, 'in-link'));
    await symlink('../../secret.txt', join(root, 'sub', 'relative-out'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('resolves paths inside the root, following symlinks that stay inside', async () => {
    expect(await confinePath(root, 'sub/a.txt')).toEqual({
      path: join(root, 'sub', 'a.txt'),
      relative: 'sub/a.txt',
    });
    expect((await confinePath(root, 'in-link')).path).toBe(join(root, 'sub', 'a.txt'));
    expect(await confinePath(root, '')).toEqual({ path: root, relative: '' });
  });

  it.each(['out-file', 'out-dir', 'out-dir/secret.txt', 'sub/relative-out'])(
    'refuses the symlink %j that points out',
    async (p) => {
      const err = await refusal(() => confinePath(root, p));
      expect(err.status).toBe(403);
      expect(err.message).toBe(`${p}: leads outside the directory (symlink)`);
    },
  );

  it('refuses dot-dot, absolute and encoded paths before touching the file system', async () => {
    for (const p of [
      '../secret.txt',
      join(base, 'secret.txt'),
      '%2e%2e/secret.txt',
      'sub/%2E%2E/%2E%2E/secret.txt',
    ])
      expect((await refusal(() => confinePath(root, p))).status).toBe(400);
  });

  it('answers 404 for a missing file or root', async () => {
    expect((await refusal(() => confinePath(root, 'nope.txt'))).status).toBe(404);
    expect((await refusal(() => confinePath(root, 'sub/a.txt/x'))).status).toBe(404);
    expect((await refusal(() => confinePath(join(base, 'gone'), 'a'))).status).toBe(404);
  });
});
