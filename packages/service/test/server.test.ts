import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, registerWorkflow, startService } from '../src/index.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'service-server-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** GET over https trusting `ca`, answering status, headers and body. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      request(url, { ca, headers, servername: 'localhost' }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
        .on('error', reject)
        .end();
    },
  );
}

describe('startService', () => {
  it('refuses to listen off loopback without TLS and a credential', async () => {
    await expect(startService({ host: '0.0.0.0', port: 0, env: { PEGASUS_TS_HOME: home } })).rejects.toThrow(
      /^refusing to listen on 0\.0\.0\.0 \(not loopback\) without TLS .* and a credential/,
    );
  });

  it('off loopback: TLS and 401 without the token; the token works as a header and, once in the URL, as a cookie', async () => {
    const token = 'a-long-enough-token';
    const s: RunningService = await startService({
      host: '0.0.0.0',
      port: 0,
      selfSigned: true,
      token,
      env: { PEGASUS_TS_HOME: home },
    });
    try {
      const ca = s.policy.tls!.cert;
      const url = `https://127.0.0.1:${s.port}`;
      expect(s.url).toBe(`https://0.0.0.0:${s.port}`);
      const denied = await httpsGet(`${url}/api/v1/workflows`, ca);
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toBe('Bearer realm="pegasus-ts"');
      expect(JSON.parse(denied.body)).toEqual({ error: 'authentication required' });
      expect(
        (await httpsGet(`${url}/api/v1/workflows`, ca, { authorization: 'Bearer wrong-token' })).status,
      ).toBe(401);
      const ok = await httpsGet(`${url}/api/v1/workflows`, ca, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).counts).toEqual({ total: 0, running: 0, successful: 0, failed: 0 });
      // a browser: ?token= once, then the HttpOnly cookie
      const login = await httpsGet(`${url}/workflows/1?token=${token}`, ca);
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/workflows/1');
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Secure/);
      expect((await httpsGet(`${url}/api/v1/workflows`, ca, { cookie })).status).toBe(200);
      expect((await httpsGet(`${url}/workflows/1?token=nope`, ca)).status).toBe(401);
      // never a redirect to another host
      expect((await httpsGet(`${url}//evil.example/x?token=${token}`, ca)).headers.location).toBe('/x');
    } finally {
      await s.close();
    }
  });

  it('basic authentication with a user and password', async () => {
    const s = await startService({
      host: '::',
      port: 0,
      selfSigned: true,
      user: 'ann',
      password: 'pw-of-ann',
      env: { PEGASUS_TS_HOME: home },
    });
    try {
      const ca = s.policy.tls!.cert;
      const url = `https://127.0.0.1:${s.port}/api/v1/workflows`;
      const basic = (u: string, p: string) => ({
        authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`,
      });
      const denied = await httpsGet(url, ca);
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toMatch(/^Basic realm="pegasus-ts"/);
      expect((await httpsGet(url, ca, basic('ann', 'wrong'))).status).toBe(401);
      expect((await httpsGet(url, ca, basic('ann', 'pw-of-ann'))).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('on loopback: plain HTTP, one-line JSON errors for bad requests, never a stack', async () => {
    const env = { PEGASUS_TS_HOME: home };
    registerWorkflow(join(home, 'gone', 'run0001'), { env });
    const s = await startService({ port: 0, env });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const cases: [string, number, RegExp][] = [
        ['/api/v1/workflows/0', 400, /^workflow "0": expected a positive integer id$/],
        ['/api/v1/workflows/abc/jobs', 400, /^workflow "abc": expected a positive integer id$/],
        ['/api/v1/workflows/999', 404, /^workflow 999: no such workflow$/],
        ['/api/v1/workflows?since=year', 400, /^since="year": expected one of day, week, month, all$/],
        ['/api/v1/workflows?max-results=-1', 400, /^max-results="-1": expected an integer from 1 to 10000$/],
        ['/api/v1/workflows?start-index=1.5', 400, /^start-index="1.5": expected an integer/],
        ['/api/v1/workflows?start-index=1&start-index=2', 400, /^start-index: given 2 times, expected once$/],
        ['/api/v1/workflows/1', 500, /^workflow 1: .*gone\/run0001/],
        ['/api/v1/nothing', 404, /^no such route: GET \/api\/v1\/nothing$/],
      ];
      for (const [path, status, message] of cases) {
        const res = await fetch(`${s.url}${path}`);
        const text = await res.text();
        expect(res.status, path).toBe(status);
        expect(text.split('\n')).toHaveLength(1);
        expect(JSON.parse(text).error, path).toMatch(message);
        expect(text).not.toMatch(/\bat .+:\d+:\d+/);
      }
      // DNS rebinding: a page of another name pointed at 127.0.0.1
      const { request: httpRequest } = await import('node:http');
      const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpRequest(`${s.url}/api/v1/workflows`, { headers: { host: `evil.example:${s.port}` } }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body).error).toBe(`host "evil.example:${s.port}": expected a loopback name`);
      expect((await fetch(`http://localhost:${s.port}/api/v1/workflows`)).status).toBe(200);
      const list = (await (await fetch(`${s.url}/api/v1/workflows`)).json()) as { rows: unknown[] };
      expect(list.rows[0]).toMatchObject({ id: 1, state: 'Unavailable' });
    } finally {
      await s.close();
    }
  });
});
