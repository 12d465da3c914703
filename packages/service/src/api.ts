import {
  findJob,
  formatSummary,
  ganttBars,
  jobDistribution,
  jobInstanceDetail,
  jobsOverTime,
  listHosts,
  listInvocations,
  listJobInstances,
  listJobs,
  listTasks,
  querySummaryTree,
  workflowRun,
} from '@pegasus-ts/monitor';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from './errors.js';
import { browse, fileStream } from './file-browser.js';
import { progressMark, sseMessage } from './live-updates.js';
import { ganttGroups, idParam, jobFilter, pageRequest, type Query, sinceTime } from './request-params.js';
import type { OpenWorkflow, WorkflowStore } from './workflow-store.js';

/** The REST API's prefix. */
export const API_PREFIX = '/api/v1';

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Query }>;

export interface ApiOptions {
  store: WorkflowStore;
  /** how often a live stream looks for progress (default 1000 ms) */
  liveIntervalMs?: number;
}

/** Registers the REST API routes (documented in the package README) on `app`. */
export function registerApi(app: FastifyInstance, options: ApiOptions): void {
  const { store } = options;
  const liveMs = options.liveIntervalMs ?? 1000;
  const wf = (req: Req): Promise<OpenWorkflow> => store.get(idParam(req.params.wf, 'workflow'));
  const get = (path: string, handler: (req: Req, reply: FastifyReply) => unknown) =>
    app.get(`${API_PREFIX}${path}`, (req, reply) => handler(req as Req, reply));

  get('/workflows', async (req) => {
    const rows = await store.list(sinceTime(req.query));
    const counts = { total: rows.length, running: 0, successful: 0, failed: 0 };
    for (const r of rows) {
      if (r.state === 'Running') counts.running++;
      else if (r.state === 'Success') counts.successful++;
      else if (r.state === 'Failure') counts.failed++;
    }
    const p = pageRequest(req.query);
    return { counts, total: rows.length, start: p.start, rows: rows.slice(p.start, p.start! + p.max!) };
  });

  get('/workflows/:wf', async (req) => {
    const w = await wf(req);
    return store.summary(w, w.reg.id);
  });

  get('/workflows/:wf/jobs', async (req) => {
    const w = await wf(req);
    return listJobs(
      w.db,
      jobFilter(req.query),
      workflowRun(w.db, w.submitDir).state === 'Running',
      pageRequest(req.query),
    );
  });

  const job = async (req: Req) => {
    const w = await wf(req);
    const id = idParam(req.params.job, 'job');
    const j = findJob(w.db, id);
    if (!j) throw new ServiceError(`job ${id}: no such job in workflow ${w.reg.id}`, 404);
    return { w, j };
  };
  get('/workflows/:wf/jobs/:job', async (req) => (await job(req)).j);
  get('/workflows/:wf/jobs/:job/instances', async (req) => {
    const { w, j } = await job(req);
    return listJobInstances(w.db, j.jobId, pageRequest(req.query));
  });
  get('/workflows/:wf/jobs/:job/tasks', async (req) => {
    const { w, j } = await job(req);
    return listTasks(w.db, j.jobId, pageRequest(req.query));
  });

  get('/workflows/:wf/job-instances', async (req) => {
    const w = await wf(req);
    return listJobInstances(w.db, undefined, pageRequest(req.query));
  });
  get('/workflows/:wf/job-instances/:ji', async (req) => {
    const w = await wf(req);
    const id = idParam(req.params.ji, 'job instance');
    const d = jobInstanceDetail(w.db, w.submitDir, id);
    if (!d) throw new ServiceError(`job instance ${id}: no such job instance in workflow ${w.reg.id}`, 404);
    return d;
  });
  get('/workflows/:wf/job-instances/:ji/invocations', async (req) => {
    const w = await wf(req);
    const id = idParam(req.params.ji, 'job instance');
    const page = listInvocations(w.db, id, pageRequest(req.query));
    if (page.total === 0 && !jobInstanceDetail(w.db, w.submitDir, id, { invocationLimit: 1 })) {
      throw new ServiceError(`job instance ${id}: no such job instance in workflow ${w.reg.id}`, 404);
    }
    return page;
  });

  get('/workflows/:wf/tasks', async (req) =>
    listTasks((await wf(req)).db, undefined, pageRequest(req.query)),
  );
  get('/workflows/:wf/invocations', async (req) =>
    listInvocations((await wf(req)).db, undefined, pageRequest(req.query)),
  );
  get('/workflows/:wf/hosts', async (req) => listHosts((await wf(req)).db, pageRequest(req.query)));

  get('/workflows/:wf/charts/distribution', async (req) => ({ rows: jobDistribution((await wf(req)).db) }));
  get('/workflows/:wf/charts/time', async (req) => jobsOverTime((await wf(req)).db));
  get('/workflows/:wf/gantt', async (req) => {
    const w = await wf(req);
    const groups = ganttGroups(req.query);
    const p = pageRequest(req.query);
    return ganttBars(w.db, {
      ...p,
      // grouped: the whole run unless a page size is given
      max: req.query['max-results'] === undefined && groups ? undefined : p.max,
      groups,
    });
  });

  get('/workflows/:wf/statistics', async (req) => {
    const w = await wf(req);
    const summary = await querySummaryTree(w.db, w.submitDir);
    return { summary, text: formatSummary(summary) };
  });

  get('/workflows/:wf/files', async (req) => browse((await wf(req)).submitDir, ''));
  get('/workflows/:wf/files/*', async (req, reply) => {
    const w = await wf(req);
    const rel = req.params['*'] ?? '';
    if (req.query.download !== undefined) {
      const f = await fileStream(w.submitDir, rel);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', f.size)
        .header('content-disposition', `attachment; filename="${f.name.replace(/["\\\r\n]/g, '_')}"`)
        .send(f.stream);
    }
    return browse(w.submitDir, rel);
  });

  // Live: an `update` event whenever the database records progress (and `state` with the
  // workflow state), a comment every 15 s to keep proxies from closing the stream.
  get('/workflows/:wf/events', async (req, reply) => {
    const w = await wf(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let last = '';
    let quiet = 0;
    const tick = () => {
      try {
        const mark = progressMark(w.db);
        if (mark !== last) {
          last = mark;
          quiet = 0;
          res.write(sseMessage('update', { mark, state: workflowRun(w.db, w.submitDir).state }));
        } else if (++quiet * liveMs >= 15_000) {
          quiet = 0;
          res.write(': keep-alive\n\n');
        }
      } catch (err) {
        res.write(sseMessage('error', { error: (err as Error).message }));
      }
    };
    tick();
    const timer = setInterval(tick, liveMs);
    req.raw.on('close', () => clearInterval(timer));
  });
}
