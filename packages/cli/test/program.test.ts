import { describe, expect, it } from 'vitest';
import { EXIT_INTERNAL, EXIT_USAGE } from '../src/errors.js';
import { runProgram } from '../src/program.js';
import { fakeIo } from './fake-io.js';

class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

describe('pegasus-ts program', () => {
  it('lists the subcommands in --help and exits 0', async () => {
    const io = fakeIo();
    expect(await runProgram(['--help'], io)).toBe(0);
    expect(io.out).toContain('kickstart');
    expect(io.out).toContain('mpi-cluster');
    expect(io.err).toBe('');
  });

  it('prints the version', async () => {
    const io = fakeIo();
    expect(await runProgram(['--version'], io)).toBe(0);
    expect(io.out.trim()).toBe('9.8.7');
  });

  it('shows help on stderr and exits 2 without a subcommand', async () => {
    const io = fakeIo();
    expect(await runProgram([], io)).toBe(EXIT_USAGE);
    expect(io.err).toContain('mpi-cluster');
  });

  it('reports an unknown subcommand in one line', async () => {
    const io = fakeIo();
    expect(await runProgram(['frobnicate'], io)).toBe(EXIT_USAGE);
    expect(io.err.trim().split('\n')).toHaveLength(1);
    expect(io.err).toMatch(/^pegasus-ts: unknown command 'frobnicate'/);
  });

  it('documents every option of each subcommand', async () => {
    const io = fakeIo();
    expect(await runProgram(['kickstart', '--help'], io)).toBe(0);
    for (const flag of [
      '-n,',
      '-N,',
      '-R,',
      '-L,',
      '-T,',
      '-H,',
      '-i,',
      '-o,',
      '-e,',
      '-l,',
      '-S,',
      '-s,',
      '-w,',
      '-W,',
      '-B,',
      '-f,',
      '-q,',
      '-k,',
      '-K,',
    ]) {
      expect(io.out).toContain(flag);
    }
    const io2 = fakeIo();
    expect(await runProgram(['mpi-cluster', '--help'], io2)).toBe(0);
    for (const flag of [
      '--stdout',
      '--rescue',
      '--no-resource-log',
      '--workers',
      '--verbose',
      '--quiet',
      '(default: stdout)',
    ]) {
      expect(io2.out).toContain(flag);
    }
  });
});

describe('pegasus-ts kickstart', () => {
  it('maps the options and the application argv, and returns the kickstart exit code', async () => {
    const io = fakeIo({ kickstart: async () => 42 });
    const code = await runProgram(
      [
        'kickstart',
        '-n',
        'demo::tr:1.0',
        '-N',
        'ID01',
        '-R',
        'local',
        '-H',
        '-l',
        'rec.yml',
        '-S',
        'a=/x/a',
        '-S',
        'b=/x/b',
        '-s',
        'c=/x/c',
        '-B',
        'all',
        '-k',
        '5',
        '-K',
        '2',
        '--',
        '/bin/echo',
        '-n',
        'hi',
      ],
      io,
    );
    expect(code).toBe(42);
    expect(io.kickstartCalls).toHaveLength(1);
    const opts = io.kickstartCalls[0] as Record<string, unknown>;
    expect(JSON.stringify(opts)).toContain('"/bin/echo","-n","hi"');
    expect(JSON.stringify(opts)).toContain('demo::tr:1.0');
    expect(JSON.stringify(opts)).toContain('"a=/x/a","b=/x/b"');
    expect(JSON.stringify(opts)).toContain('c=/x/c');
  });

  it('stops option parsing at the application, like pegasus-kickstart', async () => {
    const io = fakeIo();
    expect(await runProgram(['kickstart', '-N', 'ID1', '/bin/ls', '-l'], io)).toBe(0);
    expect(JSON.stringify(io.kickstartCalls[0])).toContain('"/bin/ls","-l"');
  });

  it('rejects a bad -k value in one line', async () => {
    const io = fakeIo();
    expect(await runProgram(['kickstart', '-k', 'soon', '--', '/bin/true'], io)).toBe(EXIT_USAGE);
    expect(io.kickstartCalls).toHaveLength(0);
    expect(io.err.trim().split('\n')).toHaveLength(1);
    expect(io.err).toMatch(/^pegasus-ts kickstart: .*soon/);
  });

  it('needs an application', async () => {
    const io = fakeIo();
    expect(await runProgram(['kickstart'], io)).toBe(EXIT_USAGE);
    expect(io.err).toMatch(/^pegasus-ts kickstart: missing required argument/);
  });
});

describe('pegasus-ts mpi-cluster', () => {
  it('passes the DAG file and options to resolveClusterOptions, then runs', async () => {
    const io = fakeIo({ cluster: async () => 1 });
    const code = await runProgram(
      ['mpi-cluster', '-vv', '-q', '--workers', '2', '--no-resource-log', 'x.dag', '-r', 'r.log'],
      io,
    );
    expect(code).toBe(1);
    expect(io.clusterRaw).toEqual([
      { dagFile: 'x.dag', workers: '2', resourceLog: false, rescue: 'r.log', verbose: 2, quiet: 1 },
    ]);
    expect(io.clusterCalls).toHaveLength(1);
  });

  it('gives no defaults of its own: resolveClusterOptions applies them', async () => {
    const io = fakeIo();
    await runProgram(['mpi-cluster', 'x.dag'], io);
    expect(io.clusterRaw).toEqual([{ dagFile: 'x.dag', verbose: 0, quiet: 0, resourceLog: true }]);
  });

  it('prints a package UserError in one line with its exit code', async () => {
    const io = fakeIo({
      cluster: async () => {
        throw new UserError('x.dag:3: unknown task B (expected a TASK line before the EDGE)', 3);
      },
    });
    expect(await runProgram(['mpi-cluster', 'x.dag'], io)).toBe(3);
    expect(io.err).toBe(
      'pegasus-ts mpi-cluster: x.dag:3: unknown task B (expected a TASK line before the EDGE)\n',
    );
  });

  it('gives exit code 2 to a UsageError without exitCode', async () => {
    const io = fakeIo({
      resolve: () => {
        throw new UsageError('missing DAGFILE');
      },
    });
    expect(await runProgram(['mpi-cluster'], io)).toBe(EXIT_USAGE);
    expect(io.err).toBe('pegasus-ts mpi-cluster: missing DAGFILE\n');
    expect(io.clusterCalls).toHaveLength(0);
  });

  it('reports an unknown option in one line, exit 2', async () => {
    const io = fakeIo();
    expect(await runProgram(['mpi-cluster', '--frobnicate', 'x.dag'], io)).toBe(EXIT_USAGE);
    expect(io.err.trim().split('\n')).toHaveLength(1);
    expect(io.err).toMatch(/^pegasus-ts mpi-cluster: unknown option '--frobnicate'/);
  });

  it('reports an unexpected error as internal (70), without the stack', async () => {
    const io = fakeIo({
      cluster: async () => {
        throw new TypeError('x is undefined');
      },
    });
    expect(await runProgram(['mpi-cluster', 'x.dag'], io)).toBe(EXIT_INTERNAL);
    expect(io.err).toBe(
      'pegasus-ts mpi-cluster: x is undefined (internal error; run with PEGASUS_TS_DEBUG=1 for the stack)\n',
    );
  });

  it('prints the stack of an unexpected error with PEGASUS_TS_DEBUG=1', async () => {
    const io = fakeIo({
      env: { PEGASUS_TS_DEBUG: '1' },
      cluster: async () => {
        throw new TypeError('x is undefined');
      },
    });
    expect(await runProgram(['mpi-cluster', 'x.dag'], io)).toBe(EXIT_INTERNAL);
    expect(io.err).toContain('at ');
  });
});
