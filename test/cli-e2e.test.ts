// End to end through the real `pegasus-ts` bin: kickstart records and a cluster run of
// examples/diamond. Needs the packages built (`bash scripts/build.sh`).
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/bin/pegasus-ts.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function pegasusTs(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

type Rec = Record<string, unknown>;

/** The one invocation record in a kickstart YAML document (a sequence of one mapping). */
function onlyRecord(text: string): Rec {
  const doc = parseYaml(text);
  expect(Array.isArray(doc), text).toBe(true);
  const records = doc as Rec[];
  expect(records).toHaveLength(1);
  expect(records[0].invocation).toBe(true);
  return records[0];
}

describe('pegasus-ts end to end', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pegasus-ts-e2e-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help lists the subcommands', async () => {
    const r = await pegasusTs(['--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kickstart');
    expect(r.stdout).toContain('mpi-cluster');
  });

  it('kickstart -- /bin/echo hi prints a record with regular_exitcode 0', async () => {
    const r = await pegasusTs(['kickstart', '--', '/bin/echo', 'hi'], dir);
    expect(r.code, r.stderr).toBe(0);
    const rec = onlyRecord(r.stdout);
    const mainjob = rec.mainjob as Rec;
    expect((mainjob.status as Rec).regular_exitcode).toBe(0);
    expect(mainjob.argument_vector).toEqual(['hi']);
  });

  it('kickstart -l appends the record to a file', async () => {
    const log = join(dir, 'rec.yml');
    const r = await pegasusTs(['kickstart', '-l', log, '--', '/bin/sh', '-c', 'exit 3'], dir);
    expect(r.code).toBe(3);
    const rec = onlyRecord(await readFile(log, 'utf8'));
    expect(((rec.mainjob as Rec).status as Rec).regular_exitcode).toBe(3);
  });

  it('kickstart -- /nonexistent exits 127 and still writes a record', async () => {
    const r = await pegasusTs(['kickstart', '--', '/nonexistent'], dir);
    expect(r.code).toBe(127);
    const rec = onlyRecord(r.stdout);
    expect(rec.mainjob).toBeDefined();
  });

  it('mpi-cluster runs examples/diamond on 2 workers and records 4 DONE tasks', async () => {
    await cp(join(ROOT, 'examples/diamond/diamond.dag'), join(dir, 'diamond.dag'));
    await cp(join(ROOT, 'examples/diamond/input.txt'), join(dir, 'input.txt'));
    const r = await pegasusTs(
      ['mpi-cluster', '--workers', '2', '-o', 'tasks.out', '-e', 'tasks.err', 'diamond.dag'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const rescue = await readFile(join(dir, 'diamond.dag.rescue'), 'utf8');
    const done = rescue.split('\n').filter((l) => l.startsWith('DONE '));
    expect(done.sort()).toEqual(['DONE analyze', 'DONE findrange1', 'DONE findrange2', 'DONE preprocess']);
    expect((await readFile(join(dir, 'outputs/f.d'), 'utf8')).trim()).toBe('min 3 max 99');
    expect(await readFile(join(dir, 'tasks.out'), 'utf8')).toContain('analyze: wrote outputs/f.d');
  });

  it('mpi-cluster resumes from the rescue log: a second run runs nothing again', async () => {
    await cp(join(ROOT, 'examples/diamond/diamond.dag'), join(dir, 'diamond.dag'));
    await cp(join(ROOT, 'examples/diamond/input.txt'), join(dir, 'input.txt'));
    const args = ['mpi-cluster', '--workers', '2', '-o', 'tasks.out', '-e', 'tasks.err', 'diamond.dag'];
    expect((await pegasusTs(args, dir)).code).toBe(0);
    await rm(join(dir, 'outputs'), { recursive: true });
    const second = await pegasusTs(args, dir);
    expect(second.code, second.stderr).toBe(0);
    // Every task was DONE, so no task ran and recreated the outputs.
    await expect(readFile(join(dir, 'outputs/f.d'), 'utf8')).rejects.toThrow();
  });
});
