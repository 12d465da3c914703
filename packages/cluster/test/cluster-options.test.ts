import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clusterOptionHelp,
  openFileLimit,
  type RawClusterOptions,
  resolveClusterOptions,
} from '../src/cluster-options.js';
import { UsageError } from '../src/errors.js';

// commander is a dependency of the CLI package, which builds its options from clusterOptionHelp.
const require = createRequire(join(import.meta.dirname, '../../cli/package.json'));
interface Cmd {
  exitOverride(): Cmd;
  argument(name: string): Cmd;
  option(flags: string, description: string, ...rest: unknown[]): Cmd;
  parse(argv: string[], opts: { from: 'user' }): Cmd;
  opts(): Record<string, unknown>;
  args: string[];
}
const { Command } = require('commander') as { Command: new () => Cmd };

function parse(argv: string[]): RawClusterOptions {
  const cmd = new Command().exitOverride().argument('[dagfile]');
  for (const o of clusterOptionHelp) {
    if (o.count) cmd.option(o.flags, o.description, (_: string, prev: number) => prev + 1, 0);
    else cmd.option(o.flags, o.description);
  }
  cmd.parse(argv, { from: 'user' });
  return { ...cmd.opts(), dagFile: cmd.args[0] } as RawClusterOptions;
}

const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveClusterOptions(parse(argv), env);

function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no UsageError');
}

describe('cluster options', () => {
  it('has PMC defaults', () => {
    const o = resolve(['w/x.dag']);
    expect(o).toMatchObject({
      dagFile: 'w/x.dag',
      stdout: 'stdout',
      stderr: 'stderr',
      skipRescue: false,
      maxFailures: 0,
      tries: 1,
      lock: true,
      rescue: 'w/x.dag.rescue',
      strictLimits: false,
      perTaskStdio: false,
      jobstateLog: false,
      monitordHack: false,
      resourceLog: true,
      keepAffinity: false,
      setAffinity: false,
      verbosity: 3,
      transport: 'auto',
      worker: false,
      invocations: 'w/x.dag.invocations.yml',
      workerTimeout: 10,
      noop: false,
    });
    expect(o.hostMemory).toBeUndefined();
    expect(o.maxWallTime).toBeUndefined();
    expect(o.maxfds).toBeGreaterThanOrEqual(1);
    expect(o.maxfds).toBeLessThanOrEqual(256);
  });

  it('reads every option with commander keys', () => {
    const o = resolve([
      'x.dag',
      ...['-o', 'out.txt', '-e', 'err.txt', '-s', '-m', '3', '-t', '2', '-n', '-r', 'r.rescue'],
      ...['--host-script', 'h.sh', '--host-memory', '1024', '--host-cpus', '8', '--strict-limits'],
      ...[
        '--max-wall-time',
        '0.5',
        '--jobstate-log',
        '--monitord-hack',
        '--no-resource-log',
        '--no-sleep-on-recv',
      ],
      ...['--maxfds', '10', '--keep-affinity', '-v', '-v', '-q', '--transport', 'zmq', '--workers', '4'],
      ...[
        '--bind',
        'tcp://*:5555',
        '--secret-file',
        's',
        '--invocations',
        'i.yml',
        '--worker-timeout',
        '2.5',
      ],
      ...['--noop', '--batch-size', '16'],
    ]);
    expect(o).toMatchObject({
      stdout: 'out.txt',
      stderr: 'err.txt',
      skipRescue: true,
      maxFailures: 3,
      tries: 2,
      lock: false,
      rescue: 'r.rescue',
      hostScript: 'h.sh',
      hostMemory: 1024,
      hostCpus: 8,
      strictLimits: true,
      maxWallTime: 0.5,
      perTaskStdio: true,
      jobstateLog: true,
      monitordHack: true,
      resourceLog: false,
      maxfds: 10,
      keepAffinity: true,
      verbosity: 4,
      transport: 'zmq',
      workers: 4,
      bind: 'tcp://*:5555',
      secretFile: 's',
      invocations: 'i.yml',
      workerTimeout: 2.5,
      noop: true,
      batchSize: 16,
    });
  });

  it('takes env defaults; the command line wins', () => {
    const env = {
      PMC_HOST_MEMORY: '2048',
      PMC_HOST_CPUS: '3',
      PMC_MAX_WALL_TIME: '1.5',
      PMC_HOST_SCRIPT: '/h',
    };
    expect(resolve(['x.dag'], env)).toMatchObject({
      hostMemory: 2048,
      hostCpus: 3,
      maxWallTime: 1.5,
      hostScript: '/h',
    });
    expect(
      resolve(
        ['x.dag', '--host-memory', '10', '--host-cpus', '1', '--max-wall-time', '2', '--host-script', 'k'],
        env,
      ),
    ).toMatchObject({ hostMemory: 10, hostCpus: 1, maxWallTime: 2, hostScript: 'k' });
  });

  it('validates numbers strictly', () => {
    expect(usage(() => resolve(['x.dag'], { PMC_HOST_MEMORY: 'x' }))).toBe(
      'invalid value for PMC_HOST_MEMORY: "x" (expected a positive integer of MB)',
    );
    expect(usage(() => resolve(['x.dag', '--host-memory', '10abc']))).toBe(
      'invalid value for --host-memory: "10abc" (expected a positive integer of MB)',
    );
    expect(usage(() => resolve(['x.dag', '--host-memory', '0']))).toMatch(/--host-memory/);
    expect(usage(() => resolve(['x.dag', '-t', '0']))).toMatch(/invalid value for --tries: "0"/);
    expect(usage(() => resolve(['x.dag', '-m', '-1']))).toMatch(/--max-failures/);
    expect(usage(() => resolve(['x.dag', '--max-wall-time', '0']))).toMatch(/--max-wall-time/);
    expect(usage(() => resolve(['x.dag'], { PMC_MAX_WALL_TIME: 'soon' }))).toMatch(/PMC_MAX_WALL_TIME/);
    expect(usage(() => resolve(['x.dag'], { PMC_HOST_CPUS: '2.5' }))).toMatch(/PMC_HOST_CPUS/);
    expect(usage(() => resolve(['x.dag', '--host-gpus', '-1']))).toMatch(
      /invalid value for --host-gpus: "-1"/,
    );
    expect(resolve(['x.dag', '--host-gpus', '0'], { PMC_HOST_GPUS: '4' }).hostGpus).toBe(0);
    expect(resolve(['x.dag'], { PMC_HOST_GPUS: '4' }).hostGpus).toBe(4);
    expect(usage(() => resolve(['x.dag', '--maxfds', '0']))).toMatch(/--maxfds/);
    expect(usage(() => resolve(['x.dag', '--transport', 'udp']))).toMatch(/expected zmq, mpi or auto/);
    expect(usage(() => resolve(['x.dag', '--batch-size', '1.5']))).toMatch(/--batch-size/);
    const limit = openFileLimit();
    if (limit !== undefined && Number.isFinite(limit)) {
      expect(usage(() => resolve(['x.dag', '--maxfds', String(limit + 1)]))).toMatch(/open file limit/);
    }
  });

  it('checks conflicts and requirements', () => {
    expect(resolve(['x.dag', '--set-affinity']).setAffinity).toBe(true);
    expect(usage(() => resolve(['x.dag', '--set-affinity', '--host-cpus', '8']))).toBe(
      '--host-cpus is not compatible with --set-affinity',
    );
    expect(
      usage(() => resolveClusterOptions({ dagFile: 'x.dag', setAffinity: true }, { PMC_HOST_CPUS: '8' })),
    ).toBe('PMC_HOST_CPUS is not compatible with --set-affinity');
    expect(usage(() => resolve(['--worker']))).toBe('--worker requires --connect <endpoint>');
    expect(usage(() => resolve([]))).toMatch(/missing DAGFILE/);
    const w = resolve(['--worker', '--connect', 'tcp://h:1']);
    expect(w.worker).toBe(true);
    expect(w.connect).toBe('tcp://h:1');
  });

  it('describes every option', () => {
    for (const o of clusterOptionHelp) {
      expect(o.flags).toMatch(/^(-\w, )?--[a-z-]+( <[a-z]+>)?$/);
      expect(o.description.length).toBeGreaterThan(5);
    }
  });
});
