import { describe, expect, it } from 'vitest';
import { runProgram } from '../src/program.js';
import { fakeIo } from './fake-io.js';

async function optionsFor(args: string[]): Promise<unknown> {
  const io = fakeIo();
  const code = await runProgram(['kickstart', ...args], io);
  expect(code, io.err).toBe(0);
  return io.kickstartCalls[0];
}

describe('kickstart flags -> KickstartOptions', () => {
  it('maps every Pegasus kickstart letter', async () => {
    const opts = await optionsFor([
      '-n',
      'ns::tr:1.0',
      '-N',
      'ID7',
      '-R',
      'hpc',
      '-L',
      'diamond',
      '-T',
      '2024-05-02T10:10:00Z',
      '-H',
      '-i',
      'in.txt',
      '-o',
      '!out.txt',
      '-e',
      '-',
      '-l',
      'rec.yml',
      '-S',
      'a=/a',
      '-S',
      '@list',
      '-s',
      'b=/b',
      '-w',
      'wd',
      '-B',
      '1024',
      '-f',
      '-q',
      '-k',
      '30',
      '-K',
      '2.5',
      '--',
      'app',
      'x',
    ]);
    expect(opts).toEqual({
      argv: ['app', 'x'],
      transformation: 'ns::tr:1.0',
      derivation: 'ID7',
      resource: 'hpc',
      wfLabel: 'diamond',
      wfStamp: '2024-05-02T10:10:00Z',
      noHeader: true,
      stdin: 'in.txt',
      stdout: '!out.txt',
      stderr: '-',
      logFile: 'rec.yml',
      statBefore: ['a=/a', '@list'],
      statAfter: ['b=/b'],
      workdir: 'wd',
      tailBytes: 1024,
      full: true,
      quiet: true,
      timeout: 30,
      killGrace: 2.5,
    });
  });

  it('gives only the application when no option is set', async () => {
    expect(await optionsFor(['--', '/bin/echo', 'hi'])).toEqual({
      argv: ['/bin/echo', 'hi'],
      statBefore: [],
      statAfter: [],
    });
  });

  it('-W creates the working directory, -B all keeps all output', async () => {
    expect(await optionsFor(['-W', 'new/dir', '-B', 'all', 'app'])).toMatchObject({
      workdir: 'new/dir',
      createWorkdir: true,
      tailBytes: 'all',
    });
  });

  it('rejects a bad -B in one line', async () => {
    const io = fakeIo();
    expect(await runProgram(['kickstart', '-B', 'lots', 'app'], io)).toBe(2);
    expect(io.err).toMatch(
      /^pegasus-ts kickstart: option '-B, --tail-bytes <n\|all>' argument 'lots' is invalid/,
    );
  });
});
