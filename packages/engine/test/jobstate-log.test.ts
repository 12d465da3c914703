import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobstateLog, readJobstate, replayJobstate } from '../src/jobstate-log.js';

describe('jobstate.log', () => {
  it("writes Pegasus-format lines that replay into each job's history", () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobstate-'));
    try {
      const path = join(dir, 'jobstate.log');
      const log = new JobstateLog(path);
      log.started(100);
      log.job('a', 'SUBMIT', '-', 'local', 1);
      log.job('a', 'EXECUTE', 4242, 'local', 1);
      log.job('a', 'JOB_TERMINATED', '-', 'local', 1);
      log.job('a', 'JOB_SUCCESS', 0, 'local', 1, '0.500');
      log.job('a', 'POST_SCRIPT_STARTED', '-', 'local', 1);
      log.job('a', 'POST_SCRIPT_TERMINATED', 0, 'local', 1);
      log.job('a', 'POST_SCRIPT_SUCCESS', 0, 'local', 1);
      log.job('b', 'SUBMIT', '-', 'slurm', 1);
      log.job('b', 'GRID_SUBMIT', 77, 'slurm', 1);
      log.close();
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      expect(lines[0]).toMatch(/^\d+ INTERNAL \*\*\* DAGMAN_STARTED 100 \*\*\*$/);
      expect(lines[4]).toMatch(/^\d+ a JOB_SUCCESS 0 local 0\.500 1$/);
      const h = readJobstate(path);
      expect(h.crashed).toBe(true);
      expect(h.jobs.get('a')).toMatchObject({ seq: 1, succeeded: true, failures: 0 });
      expect(h.jobs.get('b')?.attempt).toMatchObject({
        seq: 1,
        schedId: '77',
        ended: false,
        last: 'GRID_SUBMIT',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts failures until the engine finishes, then resets them (a rescue run gets its retries back)', () => {
    const fail = (seq: number) =>
      `1 a SUBMIT - local - ${seq}\n1 a JOB_FAILURE 3 local 0.1 ${seq}\n1 a POST_SCRIPT_FAILURE 3 local - ${seq}\n`;
    const crashed = replayJobstate(`1 INTERNAL *** DAGMAN_STARTED 1 ***\n${fail(1)}${fail(2)}`);
    expect(crashed.jobs.get('a')).toMatchObject({ seq: 2, failures: 2, succeeded: false });
    expect(crashed.crashed).toBe(true);
    expect(crashed.finishedCode).toBeUndefined();
    const finished = replayJobstate(
      `1 INTERNAL *** DAGMAN_STARTED 1 ***\n${fail(1)}${fail(2)}1 INTERNAL *** DAGMAN_FINISHED 1 ***\n`,
    );
    expect(finished.jobs.get('a')).toMatchObject({ seq: 2, failures: 0 });
    expect(finished.crashed).toBe(false);
    expect(finished.finishedCode).toBe(1);
  });

  it('does not count evictions and aborts as failures, and ignores a torn last line', () => {
    const h = replayJobstate(
      '1 a SUBMIT - slurm - 1\n1 a JOB_EVICTED 75 slurm 3.0 1\n1 a SUBMIT - slurm - 2\n1 a JOB_ABORTED -1 slurm 0 2\n1 a SUBMIT - slurm - 3\n1 a EXECU',
    );
    expect(h.jobs.get('a')).toMatchObject({ seq: 3, failures: 0 });
    expect(h.jobs.get('a')?.attempt).toMatchObject({ seq: 3, last: 'SUBMIT', ended: false });
  });

  it('reads a journal larger than its 4 MB read size, lines cut across pieces included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobstate-'));
    try {
      const lines: string[] = ['1700000000 INTERNAL *** DAGMAN_STARTED 1 ***'];
      for (let i = 0; i < 60_000; i++) {
        const j = `job_with_a_long_name_${i}`;
        lines.push(`1700000000 ${j} SUBMIT - local - 1`, `1700000001 ${j} POST_SCRIPT_SUCCESS 0 local - 1`);
      }
      writeFileSync(join(dir, 'jobstate.log'), `${lines.join('\n')}\n`);
      const h = readJobstate(join(dir, 'jobstate.log'));
      expect(h.jobs.size).toBe(60_000);
      expect([...h.jobs.values()].every((x) => x.succeeded)).toBe(true);
      expect(h.crashed).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
