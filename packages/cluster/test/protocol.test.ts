import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeMaster,
  decodeWorker,
  encodeMaster,
  encodeWorker,
  type MasterMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  packFrames,
  type TaskCommand,
  type TaskResult,
  unpackFrames,
  type WorkerMessage,
} from '../src/protocol.js';

const config = {
  perTaskStdio: false,
  dagDir: '/tmp/dag',
  strictLimits: true,
  setAffinity: false,
  noop: false,
  hostScript: '/bin/setup.sh',
  captureLimit: 1 << 20,
  env: { A: '1', 'B C': 'x=y' },
};

const task: TaskCommand = {
  id: 7,
  attempt: 2,
  name: 'task_7',
  argv: ['/bin/echo', 'a b', '', 'ünïcødé'],
  pegasusId: 'ID0007',
  cpus: 2,
  memory: 512.5,
  pipeForwards: [['VAR', '/out/pipe']],
  fileForwards: [['local.txt', '/out/file.txt']],
  affinity: [0, 1],
  gpus: [2, 3],
};

const masterMessages: MasterMessage[] = [
  { type: 'welcome', rank: 3, hostRank: 1, config },
  { type: 'welcome', rank: 1, hostRank: 0, config: { ...config, hostScript: undefined, env: {} } },
  {
    type: 'tasks',
    grant: { cpus: 3, memory: 612.5 },
    tasks: [task, { id: 0, attempt: 0, name: 'x', argv: [], cpus: 1, memory: 0 }],
  },
  { type: 'tasks', grant: { cpus: 0, memory: 0 }, tasks: [] },
  { type: 'stop', signal: 'TERM' },
  { type: 'stop', signal: 'KILL' },
  { type: 'shutdown' },
  { type: 'heartbeat' },
];

const binary = randomBytes(4096);
const fullResult: TaskResult = {
  id: 7,
  attempt: 2,
  raw: 256,
  exitCode: 1,
  signal: null,
  start: 1_700_000_000_123,
  duration: 1.25,
  stdout: binary,
  stderr: Buffer.from('warning\n'),
  record: '- invocation: ünïcødé\n',
  forwards: [
    ['/out/a', Buffer.from([0, 1, 2, 255])],
    ['/out/empty', Buffer.alloc(0)],
  ],
  error: 'something',
};

const workerMessages: WorkerMessage[] = [
  { type: 'register', hostname: 'node1', cpus: 8, memory: 16000, gpus: 2, pid: 1234 },
  { type: 'ready' },
  {
    type: 'results',
    results: [
      fullResult,
      {
        id: 8,
        attempt: 1,
        raw: 9,
        exitCode: null,
        signal: 9,
        start: 0,
        duration: 0,
        stdout: Buffer.alloc(0),
      },
      { id: 9, attempt: 1, raw: -1, exitCode: null, signal: null, start: 5, duration: 0, error: 'ENOENT' },
    ],
    released: { cpus: 4, memory: 1024 },
    rejected: [10, 11],
  },
  { type: 'results', results: [], released: { cpus: 0, memory: 0 }, rejected: [] },
  { type: 'fatal', message: 'host script failed' },
  { type: 'heartbeat' },
];

function expectProtocolError(fn: () => unknown, pattern?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  const msg = (thrown as Error).message;
  expect(msg).not.toContain('\n');
  if (pattern) expect(msg).toMatch(pattern);
}

describe('protocol round trips', () => {
  it.each(masterMessages.map((m) => [m.type, m] as const))('master %s', (_t, m) => {
    const frames = encodeMaster(m);
    expect(frames[0][1]).toBe(PROTOCOL_VERSION);
    expect(decodeMaster(frames)).toEqual(m);
    expect(decodeMaster(unpackFrames(packFrames(frames)))).toEqual(m);
  });

  it.each(workerMessages.map((m) => [m.type, m] as const))('worker %s', (_t, m) => {
    const frames = encodeWorker(m);
    expect(decodeWorker(frames)).toEqual(m);
    expect(decodeWorker(unpackFrames(packFrames(frames)))).toEqual(m);
  });

  it('carries binary payloads in their own frames, not in the JSON', () => {
    const frames = encodeWorker(workerMessages[2]);
    const json = frames[0].toString('utf8', 2);
    expect(json).not.toContain(binary.toString('base64').slice(0, 20));
    expect(frames.some((f) => f === binary)).toBe(true);
    const back = decodeWorker(frames);
    if (back.type !== 'results') throw new Error('wrong type');
    expect(back.results[0].stdout?.equals(binary)).toBe(true);
    // empty stays empty (not absent), absent stays absent
    expect(back.results[0].forwards?.[1][1].length).toBe(0);
    expect(back.results[1].stdout?.length).toBe(0);
    expect(back.results[1].stderr).toBeUndefined();
  });

  it('never shares one frame between master and worker decoders', () => {
    expectProtocolError(() => decodeWorker(encodeMaster({ type: 'shutdown' })), /unknown type code 0x4/);
    expectProtocolError(() => decodeMaster(encodeWorker({ type: 'ready' })), /unknown type code 0x12/);
  });
});

function withBody(type: number, body: string, extra: Buffer[] = []): Buffer[] {
  return [Buffer.concat([Buffer.from([type, PROTOCOL_VERSION]), Buffer.from(body)]), ...extra];
}

describe('protocol validation', () => {
  const goodTask = JSON.stringify([7, 1, 'n', ['a'], null, 1, 10, null, null, null, null, null]);
  const goodResult = (over: Record<number, unknown> = {}) => {
    const r: unknown[] = [1, 1, 0, 0, null, 10, 0.5, null, null, null, null, null];
    for (const [k, v] of Object.entries(over)) r[Number(k)] = v;
    return r;
  };
  const results = (r: unknown[], extra: Buffer[] = []) =>
    withBody(0x13, JSON.stringify([1, 10, [], [r]]), extra);

  it('accepts the hand-written good forms', () => {
    expect(decodeMaster(withBody(0x02, `[1, 10, [${goodTask}]]`)).type).toBe('tasks');
    expect(decodeWorker(results(goodResult())).type).toBe('results');
  });

  it.each([
    ['no frames', [], /no frames/],
    ['short header', [Buffer.from([2])], /shorter than 2 bytes/],
    ['wrong version', [Buffer.from([2, 99])], /protocol version 99/],
    ['missing body', [Buffer.from([2, PROTOCOL_VERSION])], /missing JSON body/],
    ['bad JSON', withBody(0x02, '[1,'), /bad JSON body/],
    ['wrong arity', withBody(0x02, '[1, 10]'), /expected 3 elements/],
    ['negative cpus', withBody(0x02, `[-1, 10, [${goodTask}]]`), /tasks.grant.cpus/],
    ['NaN-ish memory', withBody(0x02, `[1, "10", [${goodTask}]]`), /tasks.grant.memory/],
    ['task not a tuple', withBody(0x02, '[1, 10, [{"id": 1}]]'), /tasks\[0\]: expected an array/],
    ['fractional id', withBody(0x02, `[1, 10, [${goodTask.replace('[7,', '[7.5,')}]]`), /tasks\[0\].id/],
    ['empty name', withBody(0x02, `[1, 10, [${goodTask.replace('"n"', '""')}]]`), /tasks\[0\].name/],
    [
      'argv with a number',
      withBody(0x02, `[1, 10, [${goodTask.replace('["a"]', '["a", 3]')}]]`),
      /argv\[1\]/,
    ],
    [
      'negative GPU id',
      withBody(0x02, `[1, 10, [${goodTask.replace(/null\]$/, '[0, -1]]')}]]`),
      /tasks\[0\].gpus\[1\]/,
    ],
    ['bad stop signal', withBody(0x03, '"HUP"'), /stop.signal/],
    ['shutdown with a body', withBody(0x04, '{}'), /unexpected body/],
    ['welcome config not an object', withBody(0x01, '[1, 0, []]'), /welcome.config/],
    ['welcome rank 0', withBody(0x01, `[0, 0, ${JSON.stringify(config)}]`), /welcome.rank/],
    [
      'env value not a string',
      withBody(0x01, `[1, 0, ${JSON.stringify({ ...config, env: { A: 1 } })}]`),
      /env.A/,
    ],
  ] as const)('master: %s', (_name, frames, pattern) => {
    expectProtocolError(() => decodeMaster(frames as Buffer[]), pattern);
  });

  it.each([
    ['frame index out of range', results(goodResult({ 7: 1 })), /results\[0\].stdout/],
    ['frame index negative', results(goodResult({ 8: -1 })), /results\[0\].stderr/],
    ['frame index not an integer', results(goodResult({ 7: '1' }), [Buffer.from('x')]), /stdout/],
    ['forward without data', results(goodResult({ 10: [['/x', null]] })), /forwards\[0\]\[1\]/],
    ['forward with empty path', results(goodResult({ 10: [['', 0]] })), /forwards\[0\]\[0\]/],
    ['exit code 256', results(goodResult({ 3: 256 })), /exitCode/],
    ['signal 0', results(goodResult({ 4: 0 })), /signal/],
    ['raw -2', results(goodResult({ 2: -2 })), /raw/],
    ['negative duration', results(goodResult({ 6: -1 })), /duration/],
    ['rejected not integers', withBody(0x13, '[1, 10, ["a"], []]'), /rejected\[0\]/],
    ['register without hostname', withBody(0x11, '["", 1, 1, 0, 1]'), /register.hostname/],
    ['register with fractional gpus', withBody(0x11, '["h", 1, 1, 0.5, 1]'), /register.gpus/],
    ['fatal not a string', withBody(0x14, '42'), /fatal.message/],
    ['ready with extra frames', [Buffer.from([0x12, PROTOCOL_VERSION]), Buffer.from('x')], /extra frames/],
  ] as const)('worker: %s', (_name, frames, pattern) => {
    expectProtocolError(() => decodeWorker(frames as Buffer[]), pattern);
  });

  it('rejects non-buffer input without any other exception', () => {
    expectProtocolError(() => decodeMaster(null as unknown as Buffer[]));
    expectProtocolError(() => decodeWorker([42 as unknown as Buffer]));
    expectProtocolError(() => decodeWorker(results(goodResult({ 7: 1 }), [42 as unknown as Buffer])));
  });
});

/** A small deterministic PRNG so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('protocol fuzz: garbage only ever raises ProtocolError', () => {
  const rnd = prng(12345);
  const int = (n: number) => Math.floor(rnd() * n);
  const randomBuf = (max: number) => {
    const b = Buffer.alloc(int(max));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
    return b;
  };
  const decoders = [decodeMaster, decodeWorker] as const;
  const samples = [
    ...masterMessages.map((m) => encodeMaster(m)),
    ...workerMessages.map((m) => encodeWorker(m)),
  ];

  function tryAll(frames: Buffer[]): void {
    for (const decode of decoders) {
      try {
        decode(frames);
      } catch (e) {
        if (!(e instanceof ProtocolError)) {
          throw new Error(
            `non-ProtocolError ${String(e)} for frames ${frames.map((f) => f.toString('hex')).join('|')}`,
          );
        }
        expect((e as Error).message).not.toContain('\n');
      }
    }
  }

  it('random frames', () => {
    for (let i = 0; i < 3000; i++) {
      const frames = Array.from({ length: 1 + int(4) }, () => randomBuf(64));
      // a valid-looking header half of the time
      if (rnd() < 0.5 && frames[0].length >= 2) {
        frames[0][0] = [1, 2, 3, 4, 5, 0x11, 0x12, 0x13, 0x14, 0x15][int(10)];
        frames[0][1] = PROTOCOL_VERSION;
      }
      tryAll(frames);
    }
  });

  it('truncated and bit-flipped real messages', () => {
    for (const sample of samples) {
      const f0 = sample[0];
      for (let cut = 0; cut < f0.length; cut += Math.max(1, Math.floor(f0.length / 60))) {
        tryAll([f0.subarray(0, cut), ...sample.slice(1)]);
      }
      for (let i = 0; i < 300; i++) {
        const copy = Buffer.from(f0);
        for (let k = 0; k < 1 + int(3); k++) if (copy.length > 0) copy[int(copy.length)] = int(256);
        const frames = [copy, ...sample.slice(1)];
        if (rnd() < 0.3 && frames.length > 1) frames.pop();
        tryAll(frames);
      }
    }
  });

  it('JSON of the wrong shapes', () => {
    const values = [
      'null',
      'true',
      '1e400',
      '-0',
      '"x"',
      '{}',
      '[]',
      '[[]]',
      '{"__proto__":{"a":1}}',
      '[null,null,null]',
    ];
    for (const type of [1, 2, 3, 0x11, 0x13, 0x14]) {
      for (const v of values) tryAll(withBody(type, v));
      for (let i = 0; i < 200; i++) {
        const arity = int(13);
        const parts = Array.from({ length: arity }, () => values[int(values.length)]);
        tryAll(withBody(type, `[${parts.join(',')}]`));
        tryAll(withBody(type, `[1, 2, [[${parts.join(',')}]], [[${parts.join(',')}]]]`));
      }
    }
    tryAll(withBody(2, '['.repeat(100_000)));
  });

  it('unpackFrames on garbage and truncation', () => {
    const packed = packFrames(encodeWorker(workerMessages[2]));
    for (let cut = 0; cut < packed.length; cut += 37) {
      expect(() => unpackFrames(packed.subarray(0, cut))).toThrow(ProtocolError);
    }
    for (let i = 0; i < 2000; i++) {
      try {
        tryAll(unpackFrames(randomBuf(48)));
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
      }
    }
    expect(() => unpackFrames(Buffer.concat([packed, Buffer.from([0])]))).toThrow(/trailing/);
  });
});
