import { setTimeout as sleep } from 'node:timers/promises';
import {
  authenticateChallenge,
  type Credential,
  isAuthorizedRequest,
  type ListenOptions,
  resolveListenPolicy,
} from '@pegasus-ts/service/security';
import Fastify, { type FastifyInstance } from 'fastify';
import { ensembleJson, triggerJson, workflowJson } from './api-json.js';
import { EnsembleError } from './errors.js';
import { emHome } from './home.js';
import { parseInterval } from './interval.js';
import { Manager } from './manager.js';
import { checkName, parseCount } from './names.js';
import { lockHome, writeServerInfo } from './server-info.js';
import { isEnsembleState, type WorkflowAction } from './states.js';

export interface ServerOptions extends ListenOptions {
  /** the manager's home (default emHome(env)) */
  home?: string;
  /** TCP port; 0 picks a free one (default: 7919 + uid % (65535 - 7919), as pegasus-em) */
  port?: number;
  /** milliseconds between manager passes (default 1000) */
  tickMs?: number;
  pegasusTs: readonly string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** pegasus-em's default port for this user. */
export function defaultPort(): number {
  return 7919 + ((process.getuid?.() ?? 0) % (65535 - 7919));
}

type Body = Record<string, unknown>;

function str(body: Body, key: string, required = true): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new EnsembleError(`missing field '${key}'`);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new EnsembleError(`field '${key}': expected a string`);
  return String(v);
}

function strings(body: Body, key: string): string[] {
  const v = body[key] ?? [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new EnsembleError(`field '${key}': expected a list of strings`);
  return v as string[];
}

function int(body: Body, key: string, min: number, max?: number): number | undefined {
  const v = str(body, key, false);
  return v === undefined ? undefined : parseCount(key, v, min, max);
}

/** The REST API over a manager (routes documented in the package README). */
export function buildApi(
  manager: Manager,
  credential: Credential | undefined,
  tls?: { cert: string; key: string },
): FastifyInstance {
  const options = { logger: false, bodyLimit: 1 << 20 };
  const app = tls
    ? (Fastify({ ...options, https: { cert: tls.cert, key: tls.key } }) as unknown as FastifyInstance)
    : Fastify(options);
  const store = manager.store;
  app.addHook('onRequest', async (req, reply) => {
    if (!isAuthorizedRequest(req.headers, credential)) {
      reply.header('www-authenticate', authenticateChallenge(credential!));
      return reply.code(401).send({ error: 'authentication required' });
    }
  });
  app.setErrorHandler((error, _req, reply) => {
    const err = error as Error & { statusCode?: number };
    if (err instanceof EnsembleError)
      return reply.code(err.status).send({ error: err.message, exit_code: err.exitCode });
    const status = err.statusCode;
    if (status && status >= 400 && status < 500)
      return reply.code(status).send({ error: `bad request: ${err.message}`, exit_code: 2 });
    return reply.code(500).send({ error: `internal error: ${err.message}`, exit_code: 70 });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `no such resource: ${req.method} ${req.url}`, exit_code: 2 }),
  );
  type P = { e: string; w: string; t: string; action: string };
  const body = (b: unknown): Body => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Body) : {});

  app.get('/ensembles', async () => store.ensembles().map(ensembleJson));
  app.post('/ensembles', async (req, reply) => {
    const b = body(req.body);
    const e = await manager.createEnsemble(
      str(b, 'name') as string,
      int(b, 'max_running', 1) ?? 1,
      int(b, 'max_planning', 1) ?? 1,
    );
    return reply.code(201).header('location', `/ensembles/${e.name}`).send(ensembleJson(e));
  });
  app.get<{ Params: P }>('/ensembles/:e', async (req) => ensembleJson(store.ensemble(req.params.e)));
  app.put<{ Params: P }>('/ensembles/:e', async (req) => {
    const b = body(req.body);
    const state = str(b, 'state', false)?.toUpperCase();
    if (state !== undefined && !isEnsembleState(state))
      throw new EnsembleError(`state '${state}': expected ACTIVE, PAUSED or HELD`);
    return ensembleJson(
      await manager.configure(req.params.e, {
        state,
        maxRunning: int(b, 'max_running', 1),
        maxPlanning: int(b, 'max_planning', 1),
      }),
    );
  });
  app.get<{ Params: P }>('/ensembles/:e/workflows', async (req) =>
    store.workflows(req.params.e).map(workflowJson),
  );
  app.post<{ Params: P }>('/ensembles/:e/workflows', async (req, reply) => {
    const b = body(req.body);
    const w = await manager.submit(req.params.e, {
      name: str(b, 'name') as string,
      basedir: str(b, 'basedir') as string,
      planCommand: strings(b, 'plan_command'),
      priority: int(b, 'priority', -1_000_000),
    });
    return reply
      .code(201)
      .header('location', `/ensembles/${w.ensemble}/workflows/${w.name}`)
      .send(workflowJson(w));
  });
  app.get<{ Params: P }>('/ensembles/:e/workflows/:w', async (req) => {
    const w = store.workflow(req.params.e, req.params.w);
    return { ...workflowJson(w), history: store.history(w.id) };
  });
  app.put<{ Params: P }>('/ensembles/:e/workflows/:w', async (req) => {
    const priority = int(body(req.body), 'priority', -1_000_000);
    if (priority === undefined) throw new EnsembleError("missing field 'priority'");
    return workflowJson(await manager.setPriority(req.params.e, req.params.w, priority));
  });
  app.post<{ Params: P }>('/ensembles/:e/workflows/:w/:action', async (req) => {
    const action = req.params.action;
    if (action !== 'replan' && action !== 'rerun' && action !== 'abort')
      throw new EnsembleError(`no action ${action} (expected replan, rerun or abort)`, 2, 404);
    return workflowJson(await manager.act(req.params.e, req.params.w, action as WorkflowAction));
  });
  app.get<{ Params: P }>('/ensembles/:e/workflows/:w/analyze', async (req, reply) =>
    reply.type('text/plain; charset=utf-8').send(await manager.analyze(req.params.e, req.params.w)),
  );
  app.get('/triggers', async () => store.triggers().map(triggerJson));
  app.get<{ Params: P }>('/ensembles/:e/triggers', async (req) =>
    store.triggers(req.params.e).map(triggerJson),
  );
  app.get<{ Params: P }>('/ensembles/:e/triggers/:t', async (req) =>
    triggerJson(store.trigger(req.params.e, req.params.t)),
  );
  for (const [path, type] of [
    ['cron', 'CRON'],
    ['file_pattern', 'FILE_PATTERN'],
  ] as const) {
    app.post<{ Params: P }>(`/ensembles/:e/triggers/${path}`, async (req, reply) => {
      const b = body(req.body);
      const timeout = str(b, 'timeout', false);
      const t = await manager.addTrigger(req.params.e, {
        name: checkName('trigger', str(b, 'trigger') as string),
        type,
        interval: parseInterval('interval', str(b, 'interval') as string),
        timeout: timeout === undefined ? null : parseInterval('timeout', timeout),
        script: str(b, 'workflow_script') as string,
        args: strings(b, 'workflow_args'),
        patterns: type === 'FILE_PATTERN' ? strings(b, 'file_patterns') : [],
        basedir: str(b, 'basedir') as string,
      });
      return reply
        .code(201)
        .header('location', `/ensembles/${t.ensemble}/triggers/${t.name}`)
        .send(triggerJson(t));
    });
  }
  app.delete<{ Params: P }>('/ensembles/:e/triggers/:t', async (req, reply) =>
    reply.code(202).send(triggerJson(await manager.stopTrigger(req.params.e, req.params.t))),
  );
  return app;
}

/**
 * `pegasus-ts em server`: opens the home (one manager per home), finishes what a crash left
 * half done, listens (loopback by default; off loopback only with TLS and a credential), writes
 * `server.json`, and runs the manager every `tickMs` until `signal` aborts. Resolves when stopped.
 */
export async function runServer(o: ServerOptions, signal: AbortSignal): Promise<void> {
  const env = o.env ?? process.env;
  const log = o.log ?? (() => {});
  const policy = await resolveListenPolicy(o);
  const home = o.home ?? emHome(env);
  const manager = new Manager({ home, pegasusTs: o.pegasusTs, env, log });
  let unlock: (() => void) | undefined;
  let app: FastifyInstance | undefined;
  try {
    unlock = lockHome(home);
    await manager.recover();
    app = buildApi(manager, policy.credential, policy.tls);
    const address = await app.listen({ host: policy.host, port: o.port ?? defaultPort() });
    // a generated certificate is public: clients on this machine trust exactly that one
    const selfSigned = policy.tls?.fingerprint !== undefined ? policy.tls.cert : undefined;
    writeServerInfo(home, { url: address, pid: process.pid, certificate: selfSigned });
    log(`ensemble manager ${process.pid} listening on ${address} (home ${home})`);
    const tickMs = o.tickMs ?? 1000;
    while (!signal.aborted) {
      try {
        await manager.tick();
      } catch (err) {
        log(`manager pass failed: ${(err as Error).message}`);
      }
      await sleep(tickMs, undefined, { signal }).catch(() => {});
    }
    log('ensemble manager stopping');
  } finally {
    await app?.close();
    await manager.close();
    unlock?.();
  }
}
