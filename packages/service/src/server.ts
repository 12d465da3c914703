import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MonitorError } from '@pegasus-ts/monitor';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { API_PREFIX, registerApi } from './api.js';
import { ServiceError } from './errors.js';
import {
  authenticateChallenge,
  isAuthorized,
  isAuthorizedRequest,
  tokenCookie,
} from './security/credentials.js';
import { SecurityError } from './security/errors.js';
import {
  isLoopbackHost,
  type ListenOptions,
  type ListenPolicy,
  resolveListenPolicy,
} from './security/listen-policy.js';
import { masterDbPath } from './workflow-registry.js';
import { WorkflowStore } from './workflow-store.js';

/** The default port (pegasus-service's). */
export const DEFAULT_PORT = 5000;

export interface ServiceOptions extends ListenOptions {
  /** TCP port; 0 picks a free one (default {@link DEFAULT_PORT}) */
  port?: number;
  /** the master database (default: {@link masterDbPath} of `env`) */
  masterDb?: string;
  env?: NodeJS.ProcessEnv;
  /** one line per request error and server event */
  log?: (line: string) => void;
  /** how often live streams look for progress (default 1000 ms) */
  liveIntervalMs?: number;
}

export interface RunningService {
  /** `http(s)://host:port` */
  url: string;
  port: number;
  policy: ListenPolicy;
  close(): Promise<void>;
}

/** The dashboard's files (built by scripts/build.sh into dist/client), served by name only. */
const CLIENT_DIR = fileURLToPath(new URL('./client/', import.meta.url));
const CLIENT_FILES: Record<string, string> = {
  '/app.js': 'text/javascript; charset=utf-8',
  '/app.css': 'text/css; charset=utf-8',
};
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** The host name of a Host header (`name:port`, `[v6]:port`). */
function hostOf(header: string): string {
  const v6 = /^\[([^\]]*)\]/.exec(header);
  return v6 ? v6[1] : header.replace(/:\d*$/, '');
}

/** The one-line JSON error of a failed request and its status. */
export function errorReply(err: unknown): { status: number; body: { error: string } } {
  if (err instanceof ServiceError || err instanceof SecurityError) {
    return { status: err.status, body: { error: err.message } };
  }
  if (err instanceof MonitorError)
    return { status: err.exitCode === 2 ? 400 : 500, body: { error: err.message } };
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.message.split('\n')[0] } };
  }
  return { status: 500, body: { error: 'internal error (see the service log)' } };
}

/** Builds the Fastify app (routes, auth, errors) without listening: what tests and {@link startService} use. */
export async function buildService(
  policy: ListenPolicy,
  store: WorkflowStore,
  options: Pick<ServiceOptions, 'log' | 'liveIntervalMs'> = {},
): Promise<FastifyInstance> {
  const log = options.log ?? (() => {});
  // close() ends open connections too: a dashboard's live stream must not hold up a Ctrl-C
  const app = (policy.tls
    ? Fastify({ https: { cert: policy.tls.cert, key: policy.tls.key }, forceCloseConnections: true })
    : Fastify({ forceCloseConnections: true })) as unknown as FastifyInstance;
  const secure = policy.tls !== undefined;

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    const credential = policy.credential;
    // Without a credential only this machine may ask, under a loopback name: a web page whose
    // name was rebound to 127.0.0.1 (DNS rebinding) sends its own name in Host and is refused.
    if (!credential && !isLoopbackHost(hostOf(req.headers.host ?? ''))) {
      return reply
        .code(403)
        .send({ error: `host ${JSON.stringify(req.headers.host ?? '')}: expected a loopback name` });
    }
    if (!credential || isAuthorizedRequest(req.headers, credential)) return;
    // A browser opens ?token=T once: the token moves to an HttpOnly cookie and out of the URL.
    const url = new URL(req.url, 'http://x');
    const token = url.searchParams.get('token');
    if (credential.kind === 'token' && token !== null && isAuthorized(`Bearer ${token}`, credential)) {
      url.searchParams.delete('token');
      // one leading slash: `//other.host/` would send the browser elsewhere
      const path = `/${url.pathname.replace(/^\/+/, '')}`;
      return reply
        .header('set-cookie', tokenCookie(token, secure))
        .redirect(path + (url.search === '?' ? '' : url.search), 303);
    }
    return reply
      .code(401)
      .header('www-authenticate', authenticateChallenge(credential))
      .send({ error: 'authentication required' });
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorReply(err);
    if (status >= 500) log(`${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
    void reply.code(status).send(body);
  });

  registerApi(app, { store, liveIntervalMs: options.liveIntervalMs });

  const index = async () => {
    try {
      return await readFile(`${CLIENT_DIR}index.html`, 'utf8');
    } catch {
      throw new ServiceError('the dashboard is not built (run scripts/build.sh)', 503);
    }
  };
  for (const [name, type] of Object.entries(CLIENT_FILES)) {
    app.get(name, async (_req, reply) => {
      const text = await readFile(`${CLIENT_DIR}${name.slice(1)}`, 'utf8').catch(() => {
        throw new ServiceError('the dashboard is not built (run scripts/build.sh)', 503);
      });
      return reply.header('content-type', type).header('cache-control', 'no-cache').send(text);
    });
  }
  app.setNotFoundHandler(async (req, reply) => {
    if (req.method !== 'GET' || req.url.startsWith(`${API_PREFIX}/`) || req.url === API_PREFIX) {
      return reply.code(404).send({ error: `no such route: ${req.method} ${req.url.split('?')[0]}` });
    }
    // every other page is the dashboard (its router shows the page of the URL)
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .send(await index());
  });
  return app;
}

/**
 * Starts the service: applies the listen policy (loopback by default; off loopback only with
 * TLS and a credential), serves the REST API and the dashboard.
 */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  const policy = await resolveListenPolicy(options);
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServiceError(`port ${port}: expected an integer from 0 to 65535`);
  }
  const store = new WorkflowStore(options.masterDb ?? masterDbPath(options.env));
  const app = await buildService(policy, store, options);
  try {
    await app.listen({ host: policy.host, port });
  } catch (err) {
    store.close();
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ServiceError(`cannot listen on ${policy.host}:${port} (${code})`, 500, 1);
  }
  const actual = (app.server.address() as AddressInfo).port;
  const host = policy.host.includes(':') ? `[${policy.host}]` : policy.host;
  return {
    url: `${policy.tls ? 'https' : 'http'}://${host}:${actual}`,
    port: actual,
    policy,
    close: async () => {
      await app.close();
      store.close();
    },
  };
}
