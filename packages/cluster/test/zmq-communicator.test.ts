import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dealer, Router } from 'zeromq';
import { AuthError, masterProof, newNonce, workerProof } from '../src/auth.js';
import type {
  Envelope,
  MasterCommunicator,
  TransportEvent,
  WorkerCommunicator,
  WorkerInfo,
} from '../src/communicator.js';
import { isTransportEvent, TransportError } from '../src/communicator.js';
import type { MasterMessage, TaskResult, WorkerMessage } from '../src/protocol.js';
import {
  decodeControl,
  encodeAccepted,
  encodeChallenge,
  encodeHello,
} from '../src/transports/internal/control-frames.js';
import { bindMaster, connectWorker, type ZmqMasterCommunicator } from '../src/transports/zmq-communicator.js';

type Item = Envelope<WorkerMessage> | TransportEvent;

const secret = randomBytes(32);
const info = (pid: number): WorkerInfo => ({ hostname: 'testhost', cpus: 2, memory: 1024, gpus: 0, pid });

/** Reads a master's receive() in a loop; waitFor() resolves when a predicate holds. */
class Collector {
  readonly items: Item[] = [];
  batches = 0;
  ended = false;
  private waiters: Array<() => void> = [];
  constructor(private readonly master: MasterCommunicator) {
    void this.loop();
  }
  private async loop(): Promise<void> {
    for (;;) {
      const batch = await this.master.receive();
      if (batch === null) break;
      expect(batch.length).toBeGreaterThan(0);
      this.batches++;
      this.items.push(...batch);
      for (const w of this.waiters.splice(0)) w();
    }
    this.ended = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async waitFor(pred: (items: Item[]) => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.items)) {
      if (this.ended) throw new Error(`master closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  events(kind: 'joined' | 'lost'): TransportEvent[] {
    return this.items.filter((x): x is TransportEvent => isTransportEvent(x) && x.kind === kind);
  }
  messages(): Envelope<WorkerMessage>[] {
    return this.items.filter((x): x is Envelope<WorkerMessage> => !isTransportEvent(x));
  }
}

/** Receives from a worker until `n` messages arrived (or null). */
async function receiveN(w: WorkerCommunicator, n: number): Promise<MasterMessage[]> {
  const out: MasterMessage[] = [];
  while (out.length < n) {
    const batch = await w.receive();
    if (batch === null) throw new Error(`worker receive() ended after ${out.length} of ${n} messages`);
    out.push(...batch);
  }
  return out;
}

let dir: string;
let logs: string[];
let closers: Array<() => Promise<void> | void>;
const log = (level: string, msg: string) => {
  logs.push(`${level}: ${msg}`);
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pts-zmq-'));
  logs = [];
  closers = [];
});

afterEach(async () => {
  for (const c of closers.reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

async function startMaster(url: string, opts: { workerTimeoutMs?: number; heartbeatMs?: number } = {}) {
  const master = await bindMaster({ url, secret, log, ...opts });
  closers.push(() => master.close());
  return { master, events: new Collector(master) };
}

async function join1(master: ZmqMasterCommunicator, pid: number, opts: { masterTimeoutMs?: number } = {}) {
  const w = await connectWorker({ url: master.endpoint, secret, info: info(pid), log, ...opts });
  closers.push(() => w.close());
  return w;
}

describe.each([
  ['ipc', () => `ipc://${join(dir, 'master.sock')}`],
  ['tcp', () => 'tcp://127.0.0.1:0'],
])('zmq transport over %s', (_name, url) => {
  it('two workers join with ranks 1 and 2 and exchange messages both ways, binary intact', async () => {
    const { master, events } = await startMaster(url());
    if (url().startsWith('tcp')) expect(master.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(master.size()).toBe(1);

    const w1 = await join1(master, 101);
    const w2 = await join1(master, 102);
    expect([w1.rank, w2.rank]).toEqual([1, 2]);
    expect(w1.transport).toBe('zmq');
    await events.waitFor((it) => it.length >= 2, 'two joins');
    expect(events.events('joined')).toEqual([
      { kind: 'joined', rank: 1, info: info(101) },
      { kind: 'joined', rank: 2, info: info(102) },
    ]);
    expect(master.size()).toBe(3);

    // master -> one worker, and broadcast
    const tasks: MasterMessage = {
      type: 'tasks',
      grant: { cpus: 1, memory: 10 },
      tasks: [{ id: 5, attempt: 1, name: 't5', argv: ['/bin/true'], cpus: 1, memory: 10 }],
    };
    master.send(2, tasks);
    master.broadcast({ type: 'stop', signal: 'TERM' });
    expect(await receiveN(w2, 2)).toEqual([tasks, { type: 'stop', signal: 'TERM' }]);
    expect(await receiveN(w1, 1)).toEqual([{ type: 'stop', signal: 'TERM' }]);

    // worker -> master with binary payloads
    const big = randomBytes(1 << 20);
    const result: TaskResult = {
      id: 5,
      attempt: 1,
      raw: 0,
      exitCode: 0,
      signal: null,
      start: Date.now(),
      duration: 0.5,
      stdout: big,
      stderr: Buffer.from([0, 255, 0]),
      forwards: [['/tmp/x', Buffer.from('data\0more')]],
      record: 'invocation: yes\n',
    };
    w2.send({ type: 'results', results: [result], released: { cpus: 1, memory: 10 }, rejected: [] });
    w1.send({ type: 'ready' });
    await events.waitFor((it) => it.length >= 4, 'two messages');
    const got = events.messages();
    expect(got.find((m) => m.source === 1)?.message).toEqual({ type: 'ready' });
    const res = got.find((m) => m.source === 2)?.message;
    if (res?.type !== 'results') throw new Error('expected results from rank 2');
    // (Buffer.equals: vitest's deep equality walks a megabyte slowly)
    expect(res.results[0].stdout?.equals(big)).toBe(true);
    expect({ ...res.results[0], stdout: undefined }).toEqual({ ...result, stdout: undefined });
  });

  it('refuses a worker with the wrong secret: logged, no rank, connectWorker rejects', async () => {
    const { master, events } = await startMaster(url());
    const bad = connectWorker({ url: master.endpoint, secret: randomBytes(32), info: info(7), log });
    await expect(bad).rejects.toThrow(AuthError);
    await expect(bad).rejects.toThrow(/refused this worker: bad proof/);
    expect(
      logs.some((l) => /^warn: refused worker [0-9a-f]+ from testhost \(pid 7, claimed\): bad proof/.test(l)),
    ).toBe(true);
    expect(master.size()).toBe(1);
    // a good worker still gets rank 1
    const w = await join1(master, 8);
    expect(w.rank).toBe(1);
    await events.waitFor((it) => it.length >= 1, 'join');
    expect(events.items).toEqual([{ kind: 'joined', rank: 1, info: info(8) }]);
  });

  it('logs and refuses garbage from a raw dealer without crashing', async () => {
    const { master, events } = await startMaster(url());
    const raw = new Dealer({ linger: 0 });
    closers.push(() => raw.close());
    raw.connect(master.endpoint);
    // a data message (first byte below the control range, else it is a malformed control frame)
    const garbage = randomBytes(100);
    garbage[0] &= 0x7f;
    await raw.send([garbage, randomBytes(3)]);
    const [reply] = await raw.receive();
    expect(reply[0]).toBe(0xf5); // REFUSED
    expect(reply.toString('utf8', 2)).toBe('message before authentication');
    // it is ignored afterwards, even when it says HELLO
    await raw.send(encodeHello(newNonce()));
    // a malformed HELLO from another peer, and a PROOF without HELLO from a third
    const raw2 = new Dealer({ linger: 0 });
    closers.push(() => raw2.close());
    raw2.connect(master.endpoint);
    await raw2.send([Buffer.from([0xf1, 1]), Buffer.from('short')]);
    const [reply2] = await raw2.receive();
    expect(reply2.toString('utf8', 2)).toMatch(/HELLO nonce: expected 32 bytes, got 5/);
    const raw3 = new Dealer({ linger: 0 });
    closers.push(() => raw3.close());
    raw3.connect(master.endpoint);
    await raw3.send([Buffer.from([0xf3, 1, 0x5b, 0x5d]), randomBytes(32)]);
    const [reply3] = await raw3.receive();
    expect(reply3[0]).toBe(0xf5);

    const w = await join1(master, 9);
    expect(w.rank).toBe(1);
    await events.waitFor((it) => it.length >= 1, 'join');
    expect(events.items).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('warn: refused worker'))).toHaveLength(3);
    expect(
      logs.some((l) =>
        /refused worker [0-9a-f]+ from unknown address: message before authentication/.test(l),
      ),
    ).toBe(true);
    expect(raw.readable).toBe(false); // no CHALLENGE for the ignored peer
  });
});

describe('zmq transport liveness', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('reports a SIGKILLed worker process lost within the timeout', async () => {
    const dist = fileURLToPath(new URL('../dist/transports/zmq-communicator.js', import.meta.url));
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm exec tsc -b\` first`);
    const { master, events } = await startMaster(`ipc://${join(dir, 'm.sock')}`, { workerTimeoutMs: 2000 });
    const code = `
      import { connectWorker } from ${JSON.stringify(pathToFileURL(dist).href)};
      const w = await connectWorker({ url: process.argv[1], secret: Buffer.from(process.argv[2], 'hex'),
        info: { hostname: 'child', cpus: 1, memory: 1, gpus: 0, pid: process.pid }, log: () => {} });
      console.log('rank', w.rank);
      for (;;) { if ((await w.receive()) === null) break; }
    `;
    child = spawn(
      process.execPath,
      ['--input-type=module', '-e', code, master.endpoint, secret.toString('hex')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await events.waitFor((it) => it.length >= 1, 'the child to join');
    expect(events.items[0]).toMatchObject({
      kind: 'joined',
      rank: 1,
      info: { hostname: 'child', pid: child.pid },
    });
    // alive and well for a while: heartbeats keep it joined past the timeout
    await new Promise((r) => setTimeout(r, 2500));
    expect(events.events('lost')).toHaveLength(0);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await events.waitFor((it) => it.some((x) => isTransportEvent(x) && x.kind === 'lost'), 'lost', 5000);
    const waited = Date.now() - killedAt;
    expect(events.events('lost')[0]).toMatchObject({
      kind: 'lost',
      rank: 1,
      reason: expect.stringMatching(/no message/),
    });
    expect(waited).toBeLessThan(4000);
    expect(master.size()).toBe(1);
  });

  it('idle master and worker stay connected past both timeouts (heartbeats)', async () => {
    const { master, events } = await startMaster(`ipc://${join(dir, 'm.sock')}`, {
      heartbeatMs: 100,
      workerTimeoutMs: 600,
    });
    const w = await connectWorker({
      url: master.endpoint,
      secret,
      info: info(10),
      log,
      heartbeatMs: 100,
      masterTimeoutMs: 600,
    });
    closers.push(() => w.close());
    const next = w.receive();
    let settled = false;
    void next.then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(settled).toBe(false);
    expect(events.events('lost')).toHaveLength(0);
    master.send(1, { type: 'stop', signal: 'KILL' });
    expect(await next).toEqual([{ type: 'stop', signal: 'KILL' }]);
  });

  it('markLost reports at once; a lost worker that speaks again is told to shut down', async () => {
    const { master, events } = await startMaster(`ipc://${join(dir, 'm.sock')}`);
    const w = await join1(master, 11);
    master.markLost(1, 'process exited with code 3');
    await events.waitFor((it) => it.length >= 2, 'lost');
    expect(events.items[1]).toEqual({ kind: 'lost', rank: 1, reason: 'process exited with code 3' });
    expect(master.size()).toBe(1);
    w.send({ type: 'ready' });
    expect(await receiveN(w, 1)).toEqual([{ type: 'shutdown' }]);
    expect(events.messages()).toHaveLength(0);
  });

  it('a worker closing is reported lost at once', async () => {
    const { master, events } = await startMaster(`ipc://${join(dir, 'm.sock')}`);
    const w = await join1(master, 12);
    await w.close();
    await events.waitFor((it) => it.length >= 2, 'lost');
    expect(events.items[1]).toMatchObject({
      kind: 'lost',
      rank: 1,
      reason: expect.stringMatching(/worker closed/),
    });
    expect(await w.receive()).toBeNull();
  });

  it('master close: the worker gets its pending messages, then null', async () => {
    const { master, events } = await startMaster(`ipc://${join(dir, 'm.sock')}`);
    const w = await join1(master, 13, { masterTimeoutMs: 2000 });
    await events.waitFor((it) => it.length >= 1, 'join');
    master.send(1, { type: 'shutdown' });
    const t0 = Date.now();
    await master.close();
    expect(await master.receive()).toBeNull();
    expect(await receiveN(w, 1)).toEqual([{ type: 'shutdown' }]);
    expect(await w.receive()).toBeNull();
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('master abort: workers see null', async () => {
    const { master } = await startMaster(`ipc://${join(dir, 'm.sock')}`);
    const w = await join1(master, 14);
    master.abort('wall time exceeded');
    expect(await w.receive()).toBeNull();
    expect(logs.some((l) => l.includes('abort: wall time exceeded'))).toBe(true);
  });

  it('a silent master is declared gone after masterTimeoutMs (fake master, no heartbeats)', async () => {
    const router = new Router({ linger: 0 });
    closers.push(() => router.close());
    await router.bind('tcp://127.0.0.1:*');
    const fake = (async () => {
      const [id, , wnonce] = await router.receive();
      const mnonce = newNonce();
      await router.send([id, ...encodeChallenge(mnonce)]);
      const [, head, mac] = await router.receive();
      expect(decodeControl([head, mac]).type).toBe(0xf3);
      await router.send([id, ...encodeAccepted(4, masterProof(secret, mnonce, wnonce, 4))]);
    })();
    const w = await connectWorker({
      url: router.lastEndpoint!,
      secret,
      info: info(15),
      log,
      heartbeatMs: 100,
      masterTimeoutMs: 600,
    });
    closers.push(() => w.close());
    await fake;
    expect(w.rank).toBe(4);
    const t0 = Date.now();
    expect(await w.receive()).toBeNull();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(3000);
    expect(logs.some((l) => /master gone: no message for/.test(l))).toBe(true);
  });

  it('a worker refuses a master that does not hold the secret', async () => {
    const router = new Router({ linger: 0 });
    closers.push(() => router.close());
    await router.bind('tcp://127.0.0.1:*');
    void (async () => {
      const [id] = await router.receive();
      const mnonce = newNonce();
      await router.send([id, ...encodeChallenge(mnonce)]);
      await router.receive();
      await router.send([
        id,
        ...encodeAccepted(1, workerProof(randomBytes(32), mnonce, mnonce, Buffer.alloc(0))),
      ]);
    })();
    await expect(connectWorker({ url: router.lastEndpoint!, secret, info: info(16), log })).rejects.toThrow(
      /does not hold the cluster secret/,
    );
  });

  it('connectWorker gives up when nobody answers', async () => {
    const p = connectWorker({
      url: `ipc://${join(dir, 'nobody.sock')}`,
      secret,
      info: info(17),
      log,
      heartbeatMs: 50,
      masterTimeoutMs: 300,
    });
    await expect(p).rejects.toThrow(TransportError);
    await expect(p).rejects.toThrow(/no answer from the master .* within 300 ms/);
  });

  it('will not steal an ipc path a live master listens on', async () => {
    const url = `ipc://${join(dir, 'm.sock')}`;
    await startMaster(url);
    await expect(bindMaster({ url, secret, log })).rejects.toThrow(/another process is listening there/);
  });

  it('rejects bad URLs and options', async () => {
    await expect(bindMaster({ url: 'http://x', secret, log })).rejects.toThrow(/bad transport URL/);
    await expect(bindMaster({ url: 'tcp://127.0.0.1:0', secret: Buffer.alloc(4), log })).rejects.toThrow(
      AuthError,
    );
    await expect(
      bindMaster({ url: 'tcp://127.0.0.1:0', secret, log, heartbeatMs: 1000, workerTimeoutMs: 500 }),
    ).rejects.toThrow(/workerTimeoutMs must be greater than heartbeatMs/);
  });
});

describe('zmq transport throughput (printed, not asserted)', () => {
  it('100,000 small messages round trip in batches', async () => {
    const { master } = await bindMaster({ url: `ipc://${join(dir, 't.sock')}`, secret, log }).then((m) => {
      closers.push(() => m.close());
      return { master: m };
    });
    const w = await join1(master, 20);
    const first = await master.receive(); // the join event
    expect(first?.[0]).toMatchObject({ kind: 'joined', rank: 1 });

    const total = 100_000;
    const window = 2000;
    // worker: echo every message back
    const echo = (async () => {
      let n = 0;
      while (n < total) {
        const batch = await w.receive();
        if (batch === null) throw new Error('worker lost the master');
        for (let i = 0; i < batch.length; i++) w.send({ type: 'ready' });
        n += batch.length;
      }
    })();
    const t0 = process.hrtime.bigint();
    let sent = 0;
    let got = 0;
    let batches = 0;
    const msg: MasterMessage = { type: 'stop', signal: 'TERM' };
    while (sent < window) {
      master.send(1, msg);
      sent++;
    }
    while (got < total) {
      const batch = await master.receive();
      if (batch === null) throw new Error('master closed');
      batches++;
      got += batch.length;
      for (let i = 0; i < batch.length && sent < total; i++) {
        master.send(1, msg);
        sent++;
      }
    }
    await echo;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `zmq round trips: ${total} in ${s.toFixed(2)} s = ${Math.round(total / s)} msg/s, ` +
        `${batches} master batches (mean ${(total / batches).toFixed(0)} messages)`,
    );
    expect(got).toBe(total);
  });
});
