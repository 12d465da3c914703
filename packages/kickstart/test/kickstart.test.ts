import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kickstartExitCode } from '../src/exit-code.js';
import { runKickstart } from '../src/kickstart.js';
import { createLauncher, type Launcher, type LaunchResult } from '../src/launcher.js';
import { closeHashPool } from '../src/stat-files.js';
import { tempDir, waitForFile } from './helpers.js';

const base: LaunchResult = {
  pid: 1,
  start: 0,
  duration: 0,
  raw: 0,
  status: { kind: 'exit', code: 0 },
  timedOut: false,
  usage: null,
  executable: '/bin/x',
};

describe('kickstartExitCode', () => {
  it('follows kickstart 4.2', () => {
    expect(kickstartExitCode({ ...base, status: { kind: 'exit', code: 3 } })).toBe(3);
    expect(
      kickstartExitCode({ ...base, status: { kind: 'signal', signal: 9, name: 'SIGKILL', core: false } }),
    ).toBe(137);
    const fail = { kind: 'launch-failure', errno: 2, message: '' } as const;
    expect(kickstartExitCode({ ...base, status: { ...fail, stage: 'exec' } })).toBe(127);
    expect(kickstartExitCode({ ...base, status: { ...fail, stage: 'cwd' } })).toBe(127);
    expect(kickstartExitCode({ ...base, status: { ...fail, stage: 'stdio' } })).toBe(126);
    expect(kickstartExitCode({ ...base, timedOut: true, status: { kind: 'exit', code: 0 } })).toBe(14);
  });
});

describe.each(['native', 'node'] as const)('runKickstart (%s launcher)', (kind) => {
  let launcher: Launcher;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    launcher = createLauncher({ kind: kind === 'native' ? 'auto' : 'node' });
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(async () => {
    await launcher.close();
    await closeHashPool();
    await cleanup();
  });

  const run = (o: Parameters<typeof runKickstart>[0]) => runKickstart({ launcher, writeRecord: false, ...o });

  it('records a successful job with its captured output', async () => {
    const out = await run({
      argv: ['sh', '-c', 'echo out; echo err >&2', 'arg0'],
      transformation: 'demo::echo:1.0',
      derivation: 'ID01',
      resource: 'local',
      wfLabel: 'diamond',
      wfStamp: '2024-05-02T10:10:00-07:00',
    });
    expect(out.exitCode).toBe(0);
    const r = parse(out.yaml)[0];
    expect(r).toMatchObject({
      invocation: true,
      transformation: 'demo::echo:1.0',
      derivation: 'ID01',
      resource: 'local',
      'wf-label': 'diamond',
      'wf-stamp': '2024-05-02T10:10:00-07:00',
      pid: process.pid,
    });
    expect(r.mainjob.status).toEqual({ raw: 0, regular_exitcode: 0 });
    expect(r.mainjob.argument_vector).toEqual(['-c', 'echo out; echo err >&2', 'arg0']);
    expect(r.mainjob.executable.file_name).toMatch(/\/sh$/);
    expect(r.files.stdout).toMatchObject({ descriptor: 1, size: 4, data_truncated: false, data: 'out\n' });
    expect(r.files.stderr.data).toBe('err\n');
    expect(r.files.stdin.file_name).toBe('/dev/null');
    expect(r.machine.cpu_count).toBeGreaterThan(0);
    expect(r.environment).toBeUndefined();
    if (launcher.rusageAvailable) expect(r.mainjob.usage.maxrss).toBeGreaterThan(0);
    else expect(r.mainjob.rusage).toBe('unavailable');
  });

  it('-H omits the machine block, -q the data of a successful job, -B bounds the tail', async () => {
    const r = parse((await run({ argv: ['echo', 'abcdefghij'], noHeader: true, quiet: true })).yaml)[0];
    expect(r.machine).toBeUndefined();
    expect(r.files.stdout.data).toBeUndefined();
    expect(r.files.stdout.size).toBe(11);
    const t = parse((await run({ argv: ['echo', 'abcdefghij'], tailBytes: 4 })).yaml)[0];
    expect(t.files.stdout).toMatchObject({ size: 11, data_truncated: true, data: 'hij\n' });
  });

  it('writes environment and limits on failure, and maps the exit code', async () => {
    const out = await run({ argv: ['sh', '-c', 'exit 5'], env: { KS_MARK: 'm1' } });
    expect(out.exitCode).toBe(5);
    const r = parse(out.yaml)[0];
    expect(r.environment.KS_MARK).toBe('m1');
    expect(r.limits.RLIMIT_NOFILE_soft).toBeDefined();
    const full = parse((await run({ argv: ['/bin/true'], full: true })).yaml)[0];
    expect(full.environment.PATH).toBeDefined();
  });

  it('maps signal, missing executable, stdio failure, bad workdir and timeout', async () => {
    const sig = await run({ argv: ['sh', '-c', 'kill -TERM $$'] });
    expect(sig.exitCode).toBe(128 + 15);
    expect(parse(sig.yaml)[0].mainjob.status).toEqual({
      raw: 15,
      signalled_signal: 15,
      singalled_name: 'Terminated',
      corefile: false,
    });
    const missing = await run({ argv: ['no-such-program-xyz'] });
    expect(missing.exitCode).toBe(127);
    expect(parse(missing.yaml)[0].mainjob.status.raw).toBe(-1);
    expect(parse(missing.yaml)[0].mainjob.status.failure_error).toMatch(/^2 .*ENOENT/);
    const stdio = await run({ argv: ['/bin/true'], stdin: join(dir, 'nope') });
    expect(stdio.exitCode).toBe(126);
    const wd = await run({ argv: ['/bin/true'], workdir: join(dir, 'no-dir') });
    expect(wd.exitCode).toBe(127);
    const timeout = await run({ argv: ['sleep', '10'], timeout: 0.2, killGrace: 0.2 });
    expect(timeout.exitCode).toBe(14);
    expect(parse(timeout.yaml)[0].timed_out).toBe(true);
  });

  it('-W creates the workdir, and relative -i/-o resolve against it', async () => {
    const wd = join(dir, `wd-${kind}`, 'deep');
    const out = await run({
      argv: ['sh', '-c', 'cat; pwd'],
      workdir: wd,
      createWorkdir: true,
      stdout: 'out.txt',
    });
    expect(out.exitCode).toBe(0);
    expect(await readFile(join(wd, 'out.txt'), 'utf8')).toBe(`${wd}\n`);
    const r = parse(out.yaml)[0];
    expect(r.cwd).toBe(wd);
    expect(r.files.stdout.file_name).toBe(join(wd, 'out.txt'));
    expect(r.files.stdout.size).toBe(wd.length + 1);
    await writeFile(join(wd, 'in.txt'), 'input\n');
    await run({ argv: ['cat'], workdir: wd, stdin: 'in.txt', stdout: '!out.txt' });
    expect(await readFile(join(wd, 'out.txt'), 'utf8')).toBe(`${wd}\ninput\n`);
  });

  it('stats -S files before and -s files after the job, with sha256', async () => {
    const inFile = join(dir, `in-${kind}.dat`);
    const outFile = join(dir, `out-${kind}.dat`);
    const list = join(dir, `list-${kind}`);
    await writeFile(inFile, 'some input');
    await writeFile(list, `result=${outFile}\n# comment\n\nmissing=${join(dir, 'never')}\n`);
    const out = await run({
      argv: ['sh', '-c', `printf 'payload' > ${outFile}`],
      statBefore: [`input=${inFile}`],
      statAfter: [`@${list}`],
    });
    const r = parse(out.yaml)[0];
    expect(r.files.input).toMatchObject({ lfn: 'input', file_name: inFile, size: 10 });
    expect(r.files.input.sha256).toBeUndefined();
    expect(r.files.result).toMatchObject({ lfn: 'result', size: 7, output: true });
    expect(r.files.result.sha256).toBe(createHash('sha256').update('payload').digest('hex'));
    expect(r.files.result.mode & 0o170000).toBe(0o100000);
    expect(r.files.missing).toMatchObject({ lfn: 'missing', error: 2 });
  });

  it('-l appends records that parse as one sequence', async () => {
    const log = join(dir, `log-${kind}.yml`);
    await runKickstart({ launcher, argv: ['echo', 'one'], logFile: log, noHeader: true });
    await runKickstart({ launcher, argv: ['echo', 'two'], logFile: log, noHeader: true });
    const doc = parse(await readFile(log, 'utf8'));
    expect(doc.map((r: { files: { stdout: { data: string } } }) => r.files.stdout.data)).toEqual([
      'one\n',
      'two\n',
    ]);
  });
});

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe.skipIf(!existsSync(dist))('signal forwarding (needs packages/kickstart/dist: tsc -b)', () => {
  it('forwards SIGTERM received by kickstart to the job', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ready = join(dir, 'ready');
      const script = `
        import { runKickstart } from ${JSON.stringify(dist)};
        const o = await runKickstart({
          argv: ['sh', '-c', 'trap "echo got-term; exit 9" TERM; touch ${ready}; while :; do sleep 0.05; done'],
          writeRecord: false,
        });
        process.stdout.write(JSON.stringify({ code: o.exitCode, out: o.result.stdout.data.toString() }));
        process.exit(0);
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
      });
      const done = new Promise((r) => child.on('exit', r));
      await waitForFile(ready);
      child.kill('SIGTERM');
      expect(await done).toBe(0);
      expect(JSON.parse(text)).toEqual({ code: 9, out: 'got-term\n' });
    } finally {
      await cleanup();
    }
  });
});
