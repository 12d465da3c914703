// The real program through its bin script, as a user runs it (needs `tsc -b` first).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/pegasus-ts.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PEGASUS_TS_DEBUG;
    execFile(process.execPath, [BIN, ...args], { cwd, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line on stderr, no stack frames. */
function expectOneLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('bin/pegasus-ts.js', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pegasus-ts-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help lists the subcommands', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kickstart/);
    expect(r.stdout).toMatch(/mpi-cluster/);
  });

  it('mpi-cluster --help documents its options', async () => {
    const r = await run(['mpi-cluster', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--workers', '--rescue', '--max-failures', '--bind', '--connect', '--secret-file']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('kickstart --help documents its options', async () => {
    const r = await run(['kickstart', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--kill-after');
  });

  it('an unknown option is one line and exit 2', async () => {
    const r = await run(['mpi-cluster', '--bogus', 'x.dag']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/^pegasus-ts mpi-cluster: unknown option '--bogus'/);
  });

  it('an unknown subcommand is one line and exit 2', async () => {
    const r = await run(['bogus']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
  });

  it('a missing DAG file is one line, non-zero, no stack trace', async () => {
    const r = await run(['mpi-cluster', '--workers', '1', join(dir, 'missing.dag')]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(70);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/^pegasus-ts mpi-cluster: .*missing\.dag/);
  });

  it('no DAG file at all is a usage error', async () => {
    const r = await run(['mpi-cluster']);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
  });

  it('a bad DAG file names the file and line', async () => {
    const dag = join(dir, 'bad.dag');
    await writeFile(dag, 'TASK A /bin/true\nEDGE A B\n');
    const r = await run(['mpi-cluster', '--workers', '1', dag]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(70);
    expect(r.stderr).toContain('bad.dag:2');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
