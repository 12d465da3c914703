import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInvocationRecord, parseInvocationText } from '@pegasus-ts/kickstart/record-reader';
import { parseJobstateLine } from '@pegasus-ts/model';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDuration } from '../src/format.js';
import { jobCategory } from '../src/job-category.js';
import { BIN } from './fixture.js';

describe('jobstate.log lines', () => {
  it('reads job and workflow lines, and rejects malformed ones', () => {
    expect(parseJobstateLine('1700000000 job_1 JOB_FAILURE 3 condorpool 12.5 2')).toEqual({
      kind: 'job',
      time: 1700000000,
      job: 'job_1',
      event: 'JOB_FAILURE',
      field4: '3',
      site: 'condorpool',
      field6: '12.5',
      seq: 2,
    });
    expect(parseJobstateLine('1700000000 INTERNAL *** DAGMAN_STARTED 4242 ***')).toEqual({
      kind: 'workflow',
      time: 1700000000,
      event: 'DAGMAN_STARTED',
      value: 4242,
    });
    expect(parseJobstateLine('1700000001 INTERNAL *** DAGMAN_FINISHED 1 ***')).toMatchObject({ value: 1 });
    expect(parseJobstateLine('')).toBeUndefined();
    expect(parseJobstateLine('abc job SUBMIT - local - 1')).toBeUndefined();
    expect(parseJobstateLine('1700000000 job SUBMIT - local -')).toBeUndefined();
    expect(parseJobstateLine('1700000000 job SUBMIT - local - x')).toBeUndefined();
  });
});

describe('job categories (pegasus-status columns)', () => {
  it('maps the last event, with retries pending while the workflow runs', () => {
    expect(jobCategory(null, true, true)).toBeNull();
    expect(jobCategory('SUBMIT', true, true)).toBe('IN_Q');
    expect(jobCategory('EXECUTE', true, true)).toBe('IN_Q');
    expect(jobCategory('JOB_TERMINATED', true, true)).toBe('POST');
    expect(jobCategory('POST_SCRIPT_SUCCESS', false, false)).toBe('DONE');
    expect(jobCategory('POST_SCRIPT_FAILURE', true, true)).toBe('READY');
    expect(jobCategory('POST_SCRIPT_FAILURE', false, true)).toBe('FAIL');
    expect(jobCategory('POST_SCRIPT_FAILURE', true, false)).toBe('FAIL');
    // removed or evicted attempts do not count: the job runs again (now, or when resumed)
    expect(jobCategory('JOB_ABORTED', false, false)).toBe('READY');
    expect(jobCategory('JOB_EVICTED', false, true)).toBe('READY');
  });
});

describe('durations', () => {
  it('prints like pegasus-statistics', () => {
    expect(formatDuration(0)).toBe('0.0 sec');
    expect(formatDuration(12.414)).toBe('12.41 secs');
    expect(formatDuration(2)).toBe('2.0 secs');
    expect(formatDuration(116)).toBe('1 min, 56 secs');
    expect(formatDuration(3600 * 26 + 61)).toBe('1 day, 2 hrs, 1 min, 1 sec');
  });
});

describe('invocation records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monitor-records-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const record = (args: string[]): string => {
    const log = join(dir, `r${Math.random()}.yml`);
    try {
      execFileSync(
        process.execPath,
        [BIN, 'kickstart', '-n', 'demo::t:1.0', '-N', 'ID1', '-R', 'local', '-l', log, '--', ...args],
        {
          cwd: dir,
          stdio: 'ignore',
        },
      );
    } catch {
      // a failing application makes kickstart exit non-zero: the record is there anyway
    }
    return readFileSync(log, 'utf8');
  };

  it('reads real kickstart records the fast way, as the yaml package reads them', () => {
    const ok = record(['/bin/true']);
    const bad = record(['/bin/sh', '-c', 'echo "out: x"; echo \'err "quoted"\' >&2; exit 3']);
    const killed = record(['/bin/sh', '-c', 'kill -9 $$']);
    for (const text of [ok, bad, killed]) {
      const fast = parseInvocationRecord(text)!;
      // the same text with a leading comment is not in kickstart's layout: the yaml fallback
      const slow = parseInvocationRecord(`# other writer\n${text}`)!;
      expect(fast).toEqual(slow);
    }
    const b = parseInvocationRecord(bad)!;
    expect(b).toMatchObject({
      transformation: 'demo::t:1.0',
      derivation: 'ID1',
      resource: 'local',
      raw: 768,
      exitCode: 3,
      signal: null,
      executable: '/bin/sh',
      stdout: 'out: x\n',
      stderr: 'err "quoted"\n',
    });
    expect(JSON.parse(b.argv)).toEqual(['-c', 'echo "out: x"; echo \'err "quoted"\' >&2; exit 3']);
    expect(parseInvocationRecord(killed)).toMatchObject({ raw: 9, exitCode: null, signal: 9 });
    // lite: a successful record's command is not read; a failed one's is
    expect(parseInvocationRecord(ok, 0, true)).toEqual({
      ...parseInvocationRecord(ok),
      executable: null,
      argv: '[]',
    });
    expect(parseInvocationRecord(bad, 0, true)).toEqual(b);
  });

  it('leaves a record that may still be being written for later, and skips unreadable ones', () => {
    // real records: examples/diamond run by the cluster runner, one task at a time
    const dir = mkdtempSync(join(tmpdir(), 'monitor-diamond-'));
    const example = join(import.meta.dirname, '../../../examples/diamond');
    copyFileSync(join(example, 'diamond.dag'), join(dir, 'diamond.dag'));
    copyFileSync(join(example, 'input.txt'), join(dir, 'input.txt'));
    mkdirSync(join(dir, 'outputs'));
    execFileSync(
      process.execPath,
      [
        BIN,
        'mpi-cluster',
        '--workers',
        '1',
        '--host-cpus',
        '1',
        '-o',
        '/dev/null',
        '-e',
        '/dev/null',
        join(dir, 'diamond.dag'),
      ],
      { cwd: dir },
    );
    const one = readFileSync(join(dir, 'diamond.dag.invocations.yml'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const all = parseInvocationText(one, true);
    expect(all.records.map((r) => r.derivation)).toEqual([
      'preprocess',
      'findrange1',
      'findrange2',
      'analyze',
    ]);
    expect(all.consumed).toBe(one.length);
    const notFinal = parseInvocationText(one, false);
    expect(notFinal.records).toHaveLength(3);
    expect(notFinal.consumed).toBe(all.records[3].offset);
    const cut = one.slice(0, all.records[2].offset + 100);
    const part = parseInvocationText(cut, true);
    expect(part.records).toHaveLength(2);
    expect(part.consumed).toBe(all.records[2].offset);
    const garbage = parseInvocationText('- invocation: [\n- {{{\n', true);
    expect(garbage.records).toHaveLength(0);
    expect(garbage.bad).toBe(2);
  });
});
