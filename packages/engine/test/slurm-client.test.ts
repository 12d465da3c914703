// SlurmClient against a real single-node Slurm (see slurm-env.ts), and its retry/timeout
// handling against small stand-in commands on PATH.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath, slurmAvailable } from '../src/slurm/slurm-available.js';
import { SlurmClient } from '../src/slurm/slurm-client.js';
import { SlurmError } from '../src/slurm/slurm-error.js';
import { isTerminalState, type SlurmJobInfo } from '../src/slurm/slurm-parse.js';
import { pollUntil, slurmTestEnv } from './slurm-env.js';

const slurm = await slurmTestEnv();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pt-slurm-'));
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const uniq = () => `pt-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `#!/bin/bash\n#SBATCH --output=${dir}/${name}.out\n#SBATCH --error=${dir}/${name}.out\n${body}\n`,
  );
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe.skipIf(slurm.skip !== undefined)(
  `SlurmClient on a real Slurm${slurm.skip ? ` (skipped: ${slurm.skip})` : ''}`,
  () => {
    const client = () => new SlurmClient({ env: slurm.env, commandTimeoutMs: 20_000 });
    const untilState = (id: string, done: (j: SlurmJobInfo) => boolean, ms = 30_000) =>
      pollUntil(
        async () => {
          const j = (await client().poll([id])).get(id);
          return j && done(j) ? j : undefined;
        },
        ms,
        `job ${id}`,
      );
    const untilEnd = (id: string, ms?: number) => untilState(id, (j) => isTerminalState(j.state), ms);

    it('says Slurm is available, with the debug partition', async () => {
      const a = await slurmAvailable({ env: slurm.env });
      expect(a).toMatchObject({ available: true });
      if (a.available) expect(a.partitions).toContain('debug*');
    });

    it('submits a script that runs in cwd with the given environment, and polls it to completed, exit 0', async () => {
      const name = uniq();
      const f = script('ok.sh', 'echo "cwd=$PWD var=$PT_TEST_VAR name=$SLURM_JOB_NAME" > result.txt');
      const id = await client().submit(f, { jobName: name, cwd: dir, env: { PT_TEST_VAR: 'hello' } });
      expect(id).toMatch(/^\d+$/);
      const j = await untilEnd(id);
      expect(j).toMatchObject({
        id,
        name,
        state: 'completed',
        rawState: 'COMPLETED',
        exitCode: 0,
        signal: 0,
      });
      expect(j.start).toBeInstanceOf(Date);
      expect(j.end!.getTime()).toBeGreaterThanOrEqual(j.start!.getTime());
      expect(readFileSync(path.join(dir, 'result.txt'), 'utf8')).toBe(`cwd=${dir} var=hello name=${name}\n`);
    });

    it('a failing script ends failed with its exit code', async () => {
      const id = await client().submit(script('fail.sh', 'echo failing; exit 3'), {
        jobName: uniq(),
        cwd: dir,
      });
      const j = await untilEnd(id);
      expect(j).toMatchObject({ state: 'failed', exitCode: 3, signal: 0, reason: 'NonZeroExitCode' });
    });

    it('polls several jobs with one call; jobs Slurm does not know are absent', async () => {
      const a = await client().submit(script('a.sh', 'true'), { jobName: uniq(), cwd: dir });
      const b = await client().submit(script('b.sh', 'exit 1'), { jobName: uniq(), cwd: dir });
      await untilEnd(a);
      await untilEnd(b);
      const m = await client().poll([a, b, '999999', a]);
      expect([...m.keys()].sort()).toEqual([a, b].sort());
      expect(m.get(a)!.state).toBe('completed');
      expect(m.get(b)!.state).toBe('failed');
      expect((await client().poll(['999999'])).size).toBe(0);
      expect((await client().poll(['999998', '999999'])).size).toBe(0);
      expect((await client().poll([])).size).toBe(0);
    });

    it('findByName finds a job just submitted (crash recovery)', async () => {
      const name = uniq();
      const id = await client().submit(script('find.sh', 'sleep 30'), { jobName: name, cwd: dir });
      const found = await client().findByName(name);
      expect(found.map((j) => j.id)).toEqual([id]);
      expect(['pending', 'running']).toContain(found[0]!.state);
      expect(await client().findByName(`${name}-other`)).toEqual([]);
      await client().cancel([id]);
    });

    it('scancel of a running job: cancelled quickly, its processes gone', async () => {
      const f = script('long.sh', 'echo $$ > long.pid; sleep 300');
      const id = await client().submit(f, { jobName: uniq(), cwd: dir });
      await untilState(id, (j) => j.state === 'running');
      const pidFile = path.join(dir, 'long.pid');
      await pollUntil(
        async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8') ? true : undefined),
        10_000,
        'pid',
      );
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(pid)).toBe(true);
      await client().cancel([id]);
      const j = await untilEnd(id, 15_000);
      expect(j).toMatchObject({ state: 'cancelled', signal: 15 });
      await pollUntil(async () => (alive(pid) ? undefined : true), 10_000, 'the job script to end');
      await client().cancel([id, '999999']); // already gone: no error
    });

    it('cancel with a signal only sends it (to the batch script, --full)', async () => {
      const f = script(
        'trap.sh',
        'trap "echo got-TERM > trapped.txt; exit 7" TERM\necho ready > ready.txt\nsleep 300 & wait',
      );
      const id = await client().submit(f, { jobName: uniq(), cwd: dir });
      await pollUntil(
        async () => (existsSync(path.join(dir, 'ready.txt')) ? true : undefined),
        20_000,
        'ready',
      );
      await client().cancel([id], 'TERM');
      const j = await untilEnd(id, 15_000);
      expect(j).toMatchObject({ state: 'failed', exitCode: 7 });
      expect(readFileSync(path.join(dir, 'trapped.txt'), 'utf8')).toBe('got-TERM\n');
    });

    it('a rejected submission is a one-line SlurmError naming sbatch and what it said', async () => {
      let err: unknown;
      try {
        await client().submit(script('bad.sh', 'true'), {
          jobName: uniq(),
          cwd: dir,
          extraArgs: ['--partition=no-such-partition'],
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SlurmError);
      const e = err as SlurmError;
      expect(e.kind).toBe('failed');
      expect(e.message).toMatch(
        /^sbatch --parsable .* failed \(exit 1\): sbatch: error: .*invalid partition/i,
      );
      expect(e.message).not.toContain('\n');
      expect(e.exitCode).toBe(1);
    });

    it('a retried sbatch that had in fact submitted does not submit twice', async () => {
      // a stand-in sbatch that submits, then reports a timeout (as when the reply is lost)
      const real = findOnPath('sbatch', slurm.env)!;
      const bin = mkdtempSync(path.join(dir, 'bin-'));
      writeFileSync(
        path.join(bin, 'sbatch'),
        `#!/bin/sh\n"${real}" "$@" > /dev/null || exit 1\necho "sbatch: error: Socket timed out on send/recv operation" >&2\nexit 1\n`,
      );
      chmodSync(path.join(bin, 'sbatch'), 0o755);
      const env = { ...slurm.env, PATH: `${bin}:${slurm.env.PATH}` };
      const name = uniq();
      const c = new SlurmClient({ env, retryDelayMs: 10 });
      const id = await c.submit(script('once.sh', 'true'), { jobName: name, cwd: dir });
      const found = await client().findByName(name);
      expect(found.map((j) => j.id)).toEqual([id]);
    });

    it('a job past its time limit ends as timeout', async () => {
      // Slurm's smallest limit is a minute; ending it now makes the controller's time-limit
      // check (every 30 s at most) time it out
      const id = await client().submit(script('tl.sh', 'sleep 300'), {
        jobName: uniq(),
        cwd: dir,
        extraArgs: ['--time=1'],
      });
      await untilState(id, (j) => j.state === 'running');
      await promisify(execFile)('scontrol', ['update', `JobId=${id}`, 'EndTime=now'], { env: slurm.env });
      const j = await untilEnd(id, 60_000);
      expect(j).toMatchObject({ state: 'timeout', reason: 'TimeLimit', signal: 15 });
    }, 90_000);
  },
);

describe('SlurmClient command handling (stand-in commands on PATH)', () => {
  let bin: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    bin = mkdtempSync(path.join(os.tmpdir(), 'pt-slurm-bin-'));
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PT_COUNT: path.join(bin, 'count') };
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const fake = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  const calls = () => readFileSync(path.join(bin, 'count'), 'utf8').split('\n').filter(Boolean).length;

  it('retries while the controller is busy, then succeeds', async () => {
    rmSync(path.join(bin, 'count'), { force: true });
    fake(
      'squeue',
      `echo x >> "$PT_COUNT"
if [ "$(wc -l < "$PT_COUNT")" -lt 3 ]; then echo "squeue: error: slurm_load_jobs: Socket timed out on send/recv operation" >&2; exit 1; fi
echo "5|RUNNING|None|0|2026-11-21T12:18:39|2026-11-21T12:18:42|NONE|vm|x"`,
    );
    const m = await new SlurmClient({ env, retryDelayMs: 1 }).poll(['5']);
    expect(m.get('5')!.state).toBe('running');
    expect(calls()).toBe(3);
  });

  it('gives up after the retries with a one-line error saying how often it tried', async () => {
    rmSync(path.join(bin, 'count'), { force: true });
    fake(
      'squeue',
      'echo x >> "$PT_COUNT"; echo "squeue: error: Slurm temporarily unable to accept job" >&2; exit 1',
    );
    await expect(new SlurmClient({ env, retries: 2, retryDelayMs: 1 }).poll(['5'])).rejects.toThrow(
      /^squeue -h -t all -j 5 -O .* failed \(exit 1\): squeue: error: Slurm temporarily unable to accept job \(tried 3 times\)$/,
    );
    expect(calls()).toBe(3);
  });

  it('does not retry a real error', async () => {
    rmSync(path.join(bin, 'count'), { force: true });
    fake('scancel', 'echo x >> "$PT_COUNT"; echo "scancel: error: Invalid user id" >&2; exit 1');
    const err = await new SlurmClient({ env, retryDelayMs: 1 }).cancel(['5']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmError);
    expect((err as SlurmError).kind).toBe('failed');
    expect((err as SlurmError).message).toBe('scancel 5 failed (exit 1): scancel: error: Invalid user id');
    expect(calls()).toBe(1);
  });

  it('kills a command that hangs, retries, then reports the timeout', async () => {
    rmSync(path.join(bin, 'count'), { force: true });
    fake('squeue', 'echo x >> "$PT_COUNT"; exec sleep 30');
    const err = await new SlurmClient({ env, commandTimeoutMs: 200, retries: 1, retryDelayMs: 1 })
      .findByName('x')
      .catch((e: unknown) => e);
    expect((err as SlurmError).kind).toBe('timeout');
    expect((err as SlurmError).message).toMatch(/^squeue .* did not answer within 200 ms \(tried 2 times\)$/);
    expect(calls()).toBe(2);
  });

  it('a missing command is a "missing" error; options are validated', async () => {
    const c = new SlurmClient({ env: { ...process.env, PATH: bin } });
    rmSync(path.join(bin, 'sbatch'), { force: true });
    const err = await c.submit('x.sh', { jobName: 'x', cwd: bin }).catch((e: unknown) => e);
    expect((err as SlurmError).kind).toBe('missing');
    expect((err as SlurmError).message).toMatch(/^sbatch: command not found on PATH/);
    expect(() => new SlurmClient({ commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs is 0/);
    await expect(c.poll(['1;rm'])).rejects.toThrow(/invalid job id/);
    await expect(c.submit('x.sh', { jobName: 'a\nb', cwd: bin })).rejects.toThrow(/invalid job name/);
    await expect(c.submit('x.sh', { jobName: 'x', cwd: 'rel' })).rejects.toThrow(/not an absolute path/);
  });

  it('slurmAvailable says why not', async () => {
    const none = await slurmAvailable({ env: { PATH: bin } });
    expect(none).toMatchObject({ available: false, installed: false });
    if (!none.available) expect(none.reason).toMatch(/^Slurm client commands not found on PATH: .*sinfo/);
    for (const c of ['sbatch', 'squeue', 'scancel']) fake(c, 'exit 0');
    fake('sinfo', 'echo "sinfo: error: Unable to contact slurm controller (connect failure)" >&2; exit 1');
    const down = await slurmAvailable({ env: { PATH: bin } });
    expect(down).toMatchObject({ available: false, installed: true });
    if (!down.available) {
      expect(down.reason).toBe(
        'no Slurm controller answers (SLURM_CONF is not set): sinfo -h -o %P failed (exit 1): sinfo: error: Unable to contact slurm controller (connect failure)',
      );
    }
  });
});
