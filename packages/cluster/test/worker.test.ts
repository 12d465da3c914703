import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTransportEvent } from '../src/communicator.js';
import { createLogger } from '../src/log.js';
import type { TaskCommand, TaskResult, WorkerConfig } from '../src/protocol.js';
import { bindMaster, connectWorker, type ZmqMasterCommunicator } from '../src/transports/zmq-communicator.js';
import { Worker } from '../src/worker.js';

// A real worker (real launcher, real tasks) behind a real ZeroMQ master in this process.

let dir: string;
let master: ZmqMasterCommunicator;
let worker: Promise<number>;
const secret = randomBytes(32);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-'));
  master = await bindMaster({ url: `ipc://${dir}/m.sock`, secret, log: () => {} });
  const comm = await connectWorker({
    url: master.endpoint,
    secret,
    info: { hostname: hostname(), cpus: 2, memory: 1024, gpus: 0, pid: process.pid },
    log: () => {},
  });
  worker = new Worker(comm, createLogger(0), hostname()).run();
});

afterEach(async () => {
  master.broadcast({ type: 'shutdown' });
  await worker;
  await master.close();
  await rm(dir, { recursive: true, force: true });
});

const config = (setAffinity: boolean): WorkerConfig => ({
  perTaskStdio: false,
  dagDir: dir,
  strictLimits: false,
  setAffinity,
  noop: false,
  captureLimit: 1 << 20,
  env: {},
});

/** Starts the worker with `cfg`, runs one task, returns its result. */
async function runOne(cfg: WorkerConfig, task: TaskCommand): Promise<TaskResult> {
  let rank = 0;
  for (;;) {
    const batch = (await master.receive()) ?? [];
    for (const x of batch) {
      if (isTransportEvent(x)) {
        if (x.kind === 'joined') {
          rank = x.rank;
          master.send(rank, { type: 'welcome', rank, hostRank: 0, config: cfg });
        }
        continue;
      }
      const m = x.message;
      if (m.type === 'ready') {
        master.send(rank, { type: 'tasks', grant: { cpus: task.cpus, memory: 0 }, tasks: [task] });
      } else if (m.type === 'results' && m.results.length > 0) {
        return m.results[0];
      }
    }
  }
}

const showAffinity: TaskCommand = {
  id: 0,
  attempt: 1,
  name: 'pinned',
  argv: ['/bin/sh', '-c', 'echo "$PMC_AFFINITY" $(grep Cpus_allowed_list /proc/self/status)'],
  cpus: 1,
  memory: 0,
  affinity: [1],
};

describe.skipIf(cpus().length < 2)('Worker: CPU affinity', () => {
  it('with --set-affinity binds the task to the CPUs the master gave it, and says which in PMC_AFFINITY', async () => {
    const r = await runOne(config(true), showAffinity);
    expect(r.raw).toBe(0);
    expect(String(r.stdout)).toBe('1 Cpus_allowed_list: 1\n');
  });

  it('without it, sets PMC_AFFINITY only (as PMC): the task keeps the worker CPUs', async () => {
    const r = await runOne(config(false), showAffinity);
    expect(r.raw).toBe(0);
    expect(String(r.stdout)).toMatch(/^1 Cpus_allowed_list: \S+\n$/);
    expect(String(r.stdout)).not.toBe('1 Cpus_allowed_list: 1\n');
  });
});
