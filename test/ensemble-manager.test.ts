// The ensemble manager end to end, through the real `pegasus-ts em` program: a manager process
// on an ephemeral port with its home in a temp dir, plan commands that run the real planner on a
// one-job workflow, engines run by the manager, triggers, abort, and kill -9 of the manager.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, BIN, hasStackTrace, pt, start, tempDir, until } from './helpers.js';
import { processesMentioning } from './koto-workflow.js';

interface WorkflowJson {
  name: string;
  state: string;
  priority: number;
  submit_dir: string | null;
  plan_command: string[];
  plan_attempt: number;
  plan_started: number | null;
  plan_ended: number | null;
  run_started: number | null;
  run_ended: number | null;
}

interface Env {
  dir: string;
  home: string;
  env: Record<string, string>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/**
 * A temp dir holding a one-job workflow (wf/), its step script (fails while `run-broken` exists,
 * sleeps while `slow` exists, waits while `gate` exists) and plan.sh NAME [--inputs ...] (logs its arguments to plans.log,
 * fails while `plan-broken` exists, plans into submit/NAME).
 */
function setUp(): Env {
  const t = tempDir('em-e2e-');
  const dir = t.dir;
  const wf = path.join(dir, 'wf');
  mkdirSync(wf);
  writeFileSync(
    path.join(wf, 'workflow.yml'),
    'pegasus: "5.0"\nname: tiny\njobs:\n  - type: job\n    id: step\n    name: step\n    arguments: [tiny]\n    uses: []\njobDependencies: []\n',
  );
  writeFileSync(
    path.join(wf, 'sites.yml'),
    `pegasus: "5.0"\nsites:\n  - name: local\n    directories:\n      - type: sharedScratch\n        path: ${dir}/scratch\n        fileServers:\n          - url: file://${dir}/scratch\n            operation: all\n`,
  );
  writeFileSync(
    path.join(wf, 'transformations.yml'),
    `pegasus: "5.0"\ntransformations:\n  - name: step\n    sites:\n      - name: local\n        pfn: ${dir}/step.sh\n        type: installed\n`,
  );
  writeFileSync(
    path.join(wf, 'pegasus.properties'),
    'pegasus.catalog.site.file = sites.yml\npegasus.catalog.transformation.file = transformations.yml\ndagman.retry = 0\n',
  );
  const script = (name: string, body: string) => {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}`);
    chmodSync(path.join(dir, name), 0o755);
  };
  script(
    'step.sh',
    `[ -f ${dir}/run-broken ] && exit 1\n[ -f ${dir}/slow ] && sleep 120\n` +
      `while [ -f ${dir}/gate ]; do sleep 0.1; done\nexit 0\n`,
  );
  script(
    'plan.sh',
    `echo "plan $*" >> ${dir}/plans.log\n` +
      `if [ -f ${dir}/plan-broken ]; then echo "plan-broken: the planner is broken" >&2; exit 1; fi\n` +
      `[ -f ${dir}/plan-slow ] && sleep 0.4\n` +
      `cd ${wf} && exec ${process.execPath} ${BIN} plan --dir ${dir}/submit/$1 --sites local -q workflow.yml\n`,
  );
  const home = path.join(dir, 'home');
  cleanups.push(t.cleanup);
  return { dir, home: path.join(home, 'em'), env: { PEGASUS_TS_HOME: home } };
}

/** Starts `pegasus-ts em server` and waits until it wrote server.json. */
async function startServer(e: Env) {
  const s = start(['em', 'server', '--port', '0', '--tick', '100'], { cwd: e.dir, env: e.env });
  let stopped = false;
  cleanups.push(() => {
    if (!stopped && s.child.exitCode === null) s.child.kill('SIGKILL');
  });
  const info = path.join(e.home, 'server.json');
  await until(
    () => {
      if (s.child.exitCode !== null) throw new Error(`the server exited: ${s.stderrSoFar()}`);
      try {
        return JSON.parse(readFileSync(info, 'utf8')).pid === s.child.pid;
      } catch {
        return false;
      }
    },
    30_000,
    'the manager to listen',
  );
  const url = JSON.parse(readFileSync(info, 'utf8')).url as string;
  return {
    ...s,
    url,
    kill9: async () => {
      stopped = true;
      s.child.kill('SIGKILL');
      await s.done;
    },
    stop: async () => {
      stopped = true;
      s.child.kill('SIGTERM');
      return s.done;
    },
  };
}

function em(e: Env, args: string[]) {
  return pt(['em', ...args], { cwd: e.dir, env: e.env });
}

async function ok(e: Env, args: string[]): Promise<string> {
  const r = await em(e, args);
  if (r.code !== 0) throw new Error(`em ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function get<T>(url: string, p: string): Promise<T> {
  const r = await fetch(new URL(p, url));
  if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Polls the REST API until `check` holds for the ensemble's workflows. */
async function waitFor(
  url: string,
  ensemble: string,
  check: (ws: WorkflowJson[]) => boolean,
  what: string,
  ms = 120_000,
): Promise<WorkflowJson[]> {
  const t0 = Date.now();
  for (;;) {
    const ws = await get<WorkflowJson[]>(url, `/ensembles/${ensemble}/workflows`);
    if (check(ws)) return ws;
    if (Date.now() - t0 > ms)
      throw new Error(`timed out waiting for ${what}: ${ws.map((w) => `${w.name}=${w.state}`).join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const allIn = (state: string, n: number) => (ws: WorkflowJson[]) =>
  ws.length === n && ws.every((w) => w.state === state);

/** The largest number of [start, end] intervals open at once. */
function maxOverlap(intervals: [number, number][]): number {
  const points = intervals.flatMap(([s, e]) => [
    [s, 1],
    [e, -1],
  ]);
  // an interval ending at the moment another starts does not overlap it
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of points) {
    open += d;
    max = Math.max(max, open);
  }
  return max;
}

function planLines(dir: string): string[] {
  const f = path.join(dir, 'plans.log');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
}

function jobstateCount(submitDir: string, pattern: RegExp): number {
  return readFileSync(path.join(submitDir, 'jobstate.log'), 'utf8')
    .split('\n')
    .filter((l) => pattern.test(l)).length;
}

describe('pegasus-ts em', () => {
  it('runs 12 workflows with -R 2 -P 1: never more planning or running than allowed, each planned once', async () => {
    const e = setUp();
    const s = await startServer(e);
    expect(await ok(e, ['create', 'big', '-R', '2', '-P', '1'])).toContain('created ensemble big');
    for (let i = 1; i <= 12; i++) await ok(e, ['submit', `big.w${i}`, './plan.sh', `w${i}`]);
    const ws = await waitFor(s.url, 'big', allIn('SUCCESSFUL', 12), '12 successful workflows', 240_000);
    const plans = ws.map((w) => [w.plan_started, w.plan_ended] as [number, number]);
    const runs = ws.map((w) => [w.run_started, w.run_ended] as [number, number]);
    for (const [a, b] of [...plans, ...runs]) expect(b).toBeGreaterThan(a);
    expect(maxOverlap(plans)).toBe(1);
    expect(maxOverlap(runs)).toBeLessThanOrEqual(2);
    // each planned once, into its own submit dir, which one engine ran once
    expect(planLines(e.dir).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `plan w${i + 1}`).sort());
    for (const w of ws) {
      expect(w.submit_dir).toContain(`/submit/${w.name}/`);
      expect(jobstateCount(w.submit_dir!, / DAGMAN_STARTED /)).toBe(1);
      expect(jobstateCount(w.submit_dir!, / step POST_SCRIPT_SUCCESS /)).toBe(1);
    }
    const list = await ok(e, ['workflows', 'big']);
    expect(list.split('\n')[0]).toMatch(/^NAME\s+CREATED\s+UPDATED\s+STATE\s+PRIORITY$/);
    expect(list.match(/SUCCESSFUL/g)?.length).toBe(12);
    expect(await ok(e, ['ensembles'])).toMatch(/big\s.*ACTIVE\s+1\s+2/);
    await s.stop();
    expect(existsSync(path.join(e.home, 'server.json'))).toBe(false);
  }, 300_000);

  it('plans in priority order (a priority changed while queued counts), nothing while paused', async () => {
    const e = setUp();
    const s = await startServer(e);
    await ok(e, ['create', 'prio']);
    expect(await ok(e, ['pause', 'prio'])).toBe('ensemble prio is PAUSED\n');
    await ok(e, ['submit', 'prio.a', './plan.sh', 'a']);
    await ok(e, ['submit', '-p', '5', 'prio.b', './plan.sh', 'b']);
    await ok(e, ['submit', '-p', '1', 'prio.c', './plan.sh', 'c']);
    await ok(e, ['submit', 'prio.d', './plan.sh', 'd']);
    expect(await ok(e, ['priority', 'prio.d', '-p', '10'])).toBe('prio.d: priority 10\n');
    await new Promise((r) => setTimeout(r, 500)); // several passes of a paused ensemble
    expect(planLines(e.dir)).toEqual([]);
    expect(await ok(e, ['activate', 'prio'])).toBe('ensemble prio is ACTIVE\n');
    const ws = await waitFor(s.url, 'prio', allIn('SUCCESSFUL', 4), '4 successful workflows');
    const order = [...ws].sort((x, y) => x.plan_started! - y.plan_started!).map((w) => w.name);
    expect(order).toEqual(['d', 'b', 'c', 'a']);
    expect(planLines(e.dir)).toEqual(['plan d', 'plan b', 'plan c', 'plan a']);
    const runOrder = [...ws].sort((x, y) => x.run_started! - y.run_started!).map((w) => w.name);
    expect(runOrder).toEqual(['d', 'b', 'c', 'a']);
  }, 120_000);

  it('a plan failure is replanned and a run failure rerun (the engine resumes the same submit dir)', async () => {
    const e = setUp();
    const s = await startServer(e);
    await ok(e, ['create', 'fix', '-R', '2', '-P', '2']);
    writeFileSync(path.join(e.dir, 'plan-broken'), '');
    await ok(e, ['submit', 'fix.p', './plan.sh', 'p']);
    await waitFor(s.url, 'fix', (ws) => ws[0]?.state === 'PLAN_FAILED', 'the plan to fail');
    const analyzed = await ok(e, ['analyze', 'fix.p']);
    expect(analyzed).toContain('Workflow state is PLAN_FAILED');
    expect(analyzed).toContain('LOG: plan-broken: the planner is broken');
    expect((await em(e, ['rerun', 'fix.p'])).code).toBe(1); // never planned: nothing to rerun
    writeFileSync(path.join(e.dir, 'run-broken'), '');
    // fixing the planner breaks the step: the next workflow plans, then fails to run
    rmSync(path.join(e.dir, 'plan-broken'));
    expect(await ok(e, ['replan', 'fix.p'])).toBe('fix.p is READY\n');
    const failed = await waitFor(s.url, 'fix', (ws) => ws[0]?.state === 'FAILED', 'the run to fail');
    expect(failed[0].plan_attempt).toBe(2);
    const report = await ok(e, ['analyze', 'fix.p']);
    expect(report).toContain('Workflow state is FAILED');
    expect(report).toMatch(/ANALYZER: .*step/);
    rmSync(path.join(e.dir, 'run-broken'));
    expect(await ok(e, ['rerun', 'fix.p'])).toBe('fix.p is QUEUED\n');
    const [w] = await waitFor(s.url, 'fix', (ws) => ws[0]?.state === 'SUCCESSFUL', 'the rerun to succeed');
    expect(w.submit_dir).toBe(failed[0].submit_dir);
    expect(jobstateCount(w.submit_dir!, / DAGMAN_STARTED /)).toBe(2);
    expect(planLines(e.dir)).toEqual(['plan p', 'plan p']);
    const status = await ok(e, ['status', 'fix.p']);
    expect(status).toMatch(
      /History:\n(.*\n)*.*PLAN_FAILED(.*\n)*.*READY(.*\n)*.*FAILED(.*\n)*.*QUEUED(.*\n)*.*SUCCESSFUL/,
    );
  }, 120_000);

  it('a cron trigger fires every interval until stopped; a timeout stops one', async () => {
    const e = setUp();
    const s = await startServer(e);
    await ok(e, ['create', 'cron', '-R', '2', '-P', '2']);
    expect(await ok(e, ['cron-trigger', 'cron', 'tick', '1s', './plan.sh', '--args', 'ticked'])).toContain(
      'trigger cron.tick (CRON) fires every 1s',
    );
    const trig = () => get<{ fired: number; state: string }>(s.url, '/ensembles/cron/triggers/tick');
    const t0 = Date.now();
    while ((await trig()).fired < 3) {
      if (Date.now() - t0 > 60_000) throw new Error('the cron trigger did not fire 3 times');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await ok(e, ['stop-trigger', 'cron', 'tick'])).toBe('trigger cron.tick is STOPPED\n');
    const fired = (await trig()).fired;
    expect(fired).toBeGreaterThanOrEqual(3);
    const ws = await waitFor(s.url, 'cron', allIn('SUCCESSFUL', fired), 'the triggered workflows');
    for (const w of ws) expect(w.name).toMatch(/^tick_\d{10}(_\d+)?$/);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await trig()).fired).toBe(fired); // stopped: no more firings
    expect(planLines(e.dir)).toEqual(Array(fired).fill('plan ticked'));
    await ok(e, ['cron-trigger', 'cron', 'brief', '1h', './plan.sh', '-t', '1s', '--args', 'brief']);
    await until(() => planLines(e.dir).includes('plan brief'), 30_000, 'the first firing');
    const t1 = Date.now();
    while ((await get<{ state: string }>(s.url, '/ensembles/cron/triggers/brief')).state !== 'STOPPED') {
      if (Date.now() - t1 > 30_000) throw new Error('the trigger did not time out');
      await new Promise((r) => setTimeout(r, 100));
    }
    // the brief trigger's one workflow ends too
    await waitFor(s.url, 'cron', allIn('SUCCESSFUL', fired + 1), 'the workflow of the brief trigger');
    const listed = await ok(e, ['triggers', 'cron']);
    expect(listed).toMatch(/cron\s+tick\s+CRON\s+STOPPED\s+1s/);
    expect(listed).toMatch(/cron\s+brief\s+CRON\s+STOPPED\s+1h\s+1/);
  }, 120_000);

  it('a file-pattern trigger passes new files once with --inputs, moving them to processed/, also files dropped while it runs', async () => {
    const e = setUp();
    const s = await startServer(e);
    const inbox = path.join(e.dir, 'inbox');
    mkdirSync(inbox);
    await ok(e, ['create', 'files', '-R', '2', '-P', '1']);
    await ok(e, [
      'file-pattern-trigger',
      'files',
      'drop',
      '1s',
      './plan.sh',
      `${inbox}/*.txt`,
      '--args',
      'fp',
    ]);
    writeFileSync(path.join(inbox, 'a.txt'), 'a');
    writeFileSync(path.join(inbox, 'b.txt'), 'b');
    writeFileSync(path.join(inbox, 'ignored.dat'), 'x');
    const first = await waitFor(s.url, 'files', (ws) => ws.length === 1, 'a first firing');
    const processed = path.join(e.home, 'triggers/files/drop/processed');
    expect(first[0].plan_command).toEqual([
      path.join(e.dir, 'plan.sh'),
      'fp',
      '--inputs',
      path.join(processed, 'a.txt'),
      path.join(processed, 'b.txt'),
    ]);
    writeFileSync(path.join(inbox, 'c.txt'), 'c'); // while the first one plans or runs
    const ws = await waitFor(s.url, 'files', allIn('SUCCESSFUL', 2), 'two successful workflows');
    expect(ws[1].plan_command.slice(1)).toEqual(['fp', '--inputs', path.join(processed, 'c.txt')]);
    expect(readdirSync(inbox)).toEqual(['ignored.dat']);
    expect(readdirSync(processed).sort()).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(readFileSync(path.join(processed, 'c.txt'), 'utf8')).toBe('c');
    expect(planLines(e.dir)).toEqual([
      `plan fp --inputs ${processed}/a.txt ${processed}/b.txt`,
      `plan fp --inputs ${processed}/c.txt`,
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get<unknown[]>(s.url, '/ensembles/files/workflows')).length).toBe(2);
  }, 120_000);

  it('abort stops a running workflow: the engine and its job are gone; a finished one cannot be aborted', async () => {
    const e = setUp();
    const s = await startServer(e);
    writeFileSync(path.join(e.dir, 'slow'), '');
    await ok(e, ['create', 'ab']);
    await ok(e, ['submit', 'ab.long', './plan.sh', 'long']);
    const [w] = await waitFor(s.url, 'ab', (ws) => ws[0]?.state === 'RUNNING', 'the run');
    const enginePid = () => {
      try {
        return Number(readFileSync(path.join(w.submit_dir!, 'engine.pid'), 'utf8').split(' ')[0]);
      } catch {
        return 0;
      }
    };
    await until(() => enginePid() > 0, 30_000, 'the engine');
    const pid = enginePid();
    await until(() => processesMentioning(`${w.submit_dir}/invocations`).length > 0, 30_000, 'the job');
    expect(await ok(e, ['abort', 'ab.long'])).toBe('ab.long is ABORTED\n');
    expect(alive(pid)).toBe(false);
    await until(() => processesMentioning(w.submit_dir!).length === 0, 30_000, 'the job to end');
    expect(jobstateCount(w.submit_dir!, / DAGMAN_FINISHED 2 /)).toBe(1);
    const again = await em(e, ['abort', 'ab.long']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'pegasus-ts em: ab.long is ABORTED: abort applies to a workflow that is READY, PLANNING, QUEUED, RUNNING\n',
    );
    // a READY workflow of a paused ensemble, and one aborted while it plans
    await ok(e, ['pause', 'ab']);
    await ok(e, ['submit', 'ab.ready', './plan.sh', 'ready']);
    expect(await ok(e, ['abort', 'ab.ready'])).toBe('ab.ready is ABORTED\n');
    expect((await get<WorkflowJson>(s.url, '/ensembles/ab/workflows/long')).state).toBe('ABORTED');
  }, 120_000);

  it('hold holds the running engines (no job starts or is judged) until activate releases them', async () => {
    const e = setUp();
    const s = await startServer(e);
    const gate = path.join(e.dir, 'gate');
    writeFileSync(gate, '');
    await ok(e, ['create', 'hx']);
    await ok(e, ['submit', 'hx.one', './plan.sh', 'one']);
    const [w] = await waitFor(s.url, 'hx', (ws) => ws[0]?.state === 'RUNNING', 'the run');
    const submitDir = w.submit_dir as string;
    await until(() => processesMentioning(`${submitDir}/invocations`).length > 0, 60_000, 'the step job');
    const pid = Number(readFileSync(path.join(submitDir, 'engine.pid'), 'utf8').split(' ')[0]);
    const procState = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
    expect(await ok(e, ['hold', 'hx'])).toContain('HELD');
    await until(() => procState() === 'T', 30_000, 'the engine to be held');
    // the job goes on while its engine is held; its end is not judged until the release
    const journal = readFileSync(path.join(submitDir, 'jobstate.log'), 'utf8');
    rmSync(gate);
    await until(
      () => processesMentioning(`${submitDir}/invocations`).length === 0,
      60_000,
      'the step to end',
    );
    // a few passes of the manager: the engine stays held, the journal unchanged
    const tick = Date.now();
    await until(() => Date.now() - tick > 1000, 10_000, 'a second');
    expect(procState()).toBe('T');
    expect(readFileSync(path.join(submitDir, 'jobstate.log'), 'utf8')).toBe(journal);
    expect((await get<WorkflowJson>(s.url, '/ensembles/hx/workflows/one')).state).toBe('RUNNING');
    await ok(e, ['activate', 'hx']);
    await waitFor(s.url, 'hx', allIn('SUCCESSFUL', 1), 'the released run to succeed');
    expect(jobstateCount(submitDir, / DAGMAN_STARTED /)).toBe(1);
    expect(jobstateCount(submitDir, / DAGMAN_FINISHED 0 /)).toBe(1);
  }, 180_000);

  it('bad input: one line, exit 2, no stack trace', async () => {
    const e = setUp();
    await startServer(e);
    await ok(e, ['create', 'good']);
    const cases: [string[], RegExp][] = [
      [['workflows', 'nope'], /^pegasus-ts em: no ensemble named nope/],
      [['status', 'nope.w'], /^pegasus-ts em: no ensemble named nope/],
      [['status', 'good.none'], /^pegasus-ts em: no workflow named good.none/],
      [['status', 'good'], /expected ENSEMBLE.WORKFLOW/],
      [['cron-trigger', 'good', 't', '5x', './plan.sh'], /interval '5x': expected a number and a unit/],
      [
        ['file-pattern-trigger', 'good', 't', '5s', './plan.sh', 'in/*.txt'],
        /file pattern 'in\/\*.txt': expected an absolute path/,
      ],
      [['cron-trigger', 'nope', 't', '5s', './plan.sh'], /no ensemble named nope/],
      [['create', 'a.b'], /ensemble name 'a.b'/],
      [['create', 'x', '-R', '0'], /-R '0': expected an integer from 1/],
      [['priority', 'good.w', '-p', 'high'], /-p 'high': expected an integer/],
      [['stop-trigger', 'good', 'none'], /no trigger named good.none/],
      [['server', '--port', '70000'], /--port '70000': expected an integer from 0 to 65535/],
    ];
    for (const [args, message] of cases) {
      const r = await em(e, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    // no manager on a home: one line, exit 1
    const r = await pt(['em', '--home', path.join(e.dir, 'elsewhere'), 'ensembles'], { env: e.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^pegasus-ts em: no ensemble manager runs on .*elsewhere \(start one with: pegasus-ts em server\)\n$/,
    );
    // off loopback without TLS and a credential the server refuses to start
    const off = await pt(['em', 'server', '--host', '0.0.0.0', '--port', '0'], { env: e.env });
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/refusing to listen on 0.0.0.0 \(not loopback\) without TLS/);
    // a second manager on the same home is refused
    const second = await pt(['em', 'server', '--port', '0'], { env: e.env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/an ensemble manager \(pid \d+\) already runs on this home/);
  }, 120_000);

  it('with TLS and a token: the CLI needs the token and pins the self-signed certificate', async () => {
    const e = setUp();
    const s = start(['em', 'server', '--port', '0', '--self-signed', '--token', 'sesame-1234'], {
      cwd: e.dir,
      env: e.env,
    });
    cleanups.push(() => {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    });
    const info = path.join(e.home, 'server.json');
    await until(() => existsSync(info), 30_000, 'the manager to listen');
    const { url, certificate } = JSON.parse(readFileSync(info, 'utf8'));
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const denied = await em(e, ['ensembles']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('pegasus-ts em: authentication required\n');
    const wrong = await pt(['em', 'ensembles'], {
      cwd: e.dir,
      env: { ...e.env, PEGASUS_TS_EM_TOKEN: 'wrong-token' },
    });
    expect(wrong.code).toBe(1);
    const withToken = { ...e.env, PEGASUS_TS_EM_TOKEN: 'sesame-1234' };
    const created = await pt(['em', 'create', 'sec'], { cwd: e.dir, env: withToken });
    expect(created.stdout).toBe('created ensemble sec (max running 1, max planning 1)\n');
    // a server.json naming another certificate: the client refuses the server (and sends no token)
    const other = path.join(e.dir, 'other.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-keyout', path.join(e.dir, 'other.key'), '-out', other, '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    writeFileSync(info, JSON.stringify({ url, pid: s.child.pid, certificate: readFileSync(other, 'utf8') }));
    const pinned = await pt(['em', 'ensembles'], { cwd: e.dir, env: withToken });
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toMatch(/^pegasus-ts em: cannot reach the ensemble manager at https:.*certificate/);
    s.child.kill('SIGTERM');
    expect((await s.done).code).toBe(0);
  }, 120_000);

  it('survives kill -9 at random moments: no workflow planned or run twice, none lost, triggers resume', async () => {
    const e = setUp();
    writeFileSync(path.join(e.dir, 'plan-slow'), ''); // wider windows for the kills to land in
    const inbox = path.join(e.dir, 'inbox');
    mkdirSync(inbox);
    let s = await startServer(e);
    await ok(e, ['create', 'k', '-R', '2', '-P', '2']);
    for (let i = 1; i <= 6; i++) await ok(e, ['submit', `k.w${i}`, './plan.sh', `w${i}`]);
    await ok(e, ['cron-trigger', 'k', 'c', '2s', './plan.sh', '--args', 'cron']);
    await ok(e, ['file-pattern-trigger', 'k', 'f', '1s', './plan.sh', `${inbox}/*.in`, '--args', 'fp']);
    const firedBefore = async () => (await get<{ fired: number }>(s.url, '/ensembles/k/triggers/c')).fired;
    for (let round = 0; round < 6; round++) {
      writeFileSync(path.join(inbox, `r${round}.in`), String(round));
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1300));
      await s.kill9();
      s = await startServer(e);
    }
    // triggers resume after the restarts
    const fired = await firedBefore();
    const t0 = Date.now();
    while ((await firedBefore()) <= fired) {
      if (Date.now() - t0 > 30_000) throw new Error('the cron trigger did not resume');
      await new Promise((r) => setTimeout(r, 100));
    }
    await ok(e, ['stop-trigger', 'k', 'c']);
    await until(() => readdirSync(inbox).length === 0, 30_000, 'every dropped file to be taken');
    await ok(e, ['stop-trigger', 'k', 'f']);
    const ws = await waitFor(
      s.url,
      'k',
      (all) =>
        all.every((w) => w.state === 'SUCCESSFUL' || w.state === 'FAILED' || w.state === 'PLAN_FAILED'),
      'every workflow to end',
      240_000,
    );
    expect(ws.filter((w) => w.state !== 'SUCCESSFUL')).toEqual([]);
    expect(ws.filter((w) => /^w\d$/.test(w.name)).length).toBe(6);
    const lines = planLines(e.dir);
    // each workflow planned exactly once
    for (let i = 1; i <= 6; i++) expect(lines.filter((l) => l === `plan w${i}`).length, `w${i}`).toBe(1);
    expect(lines.filter((l) => l === 'plan cron').length).toBe(
      ws.filter((w) => w.name.startsWith('c_')).length,
    );
    // every dropped file passed on exactly once, in some firing
    const passed = lines
      .filter((l) => l.startsWith('plan fp --inputs '))
      .flatMap((l) => l.split(' ').slice(3));
    expect(passed.map((f) => path.basename(f)).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `r${i}.in`),
    );
    expect(ws.filter((w) => w.name.startsWith('f_')).length).toBe(
      lines.filter((l) => l.startsWith('plan fp')).length,
    );
    // each submit dir run by one engine, its job once
    for (const w of ws) {
      expect(jobstateCount(w.submit_dir!, / DAGMAN_STARTED /), w.name).toBe(1);
      expect(jobstateCount(w.submit_dir!, / step SUBMIT /), w.name).toBe(1);
    }
  }, 300_000);
});
