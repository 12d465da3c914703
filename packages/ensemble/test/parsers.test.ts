import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnsembleError } from '../src/errors.js';
import { newMatches, parseFilePattern } from '../src/file-pattern.js';
import { formatInterval, parseInterval } from '../src/interval.js';
import { checkName, parseCount, parseWorkflowRef } from '../src/names.js';
import { submitDirFromOutput } from '../src/plan-attempt.js';
import { applyAction } from '../src/states.js';
import { nextFireTime } from '../src/triggers.js';

function error(fn: () => unknown): EnsembleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnsembleError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('intervals', () => {
  it('reads <int><s|m|h|d> and bare seconds', () => {
    expect(parseInterval('interval', '30s')).toBe(30);
    expect(parseInterval('interval', '5m')).toBe(300);
    expect(parseInterval('interval', '2h')).toBe(7200);
    expect(parseInterval('interval', '1d')).toBe(86400);
    expect(parseInterval('interval', '7')).toBe(7);
    expect(formatInterval(300)).toBe('5m');
    expect(formatInterval(90)).toBe('90s');
  });

  it('refuses anything else in one line (exit 2)', () => {
    for (const bad of ['5x', '', '0s', '-1m', '1.5h', 'm', '5 m s']) {
      const e = error(() => parseInterval('interval', bad));
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(`interval '${bad}'`);
      expect(e.message).not.toContain('\n');
    }
  });
});

describe('names', () => {
  it('splits ENS.WF and checks names', () => {
    expect(parseWorkflowRef('koto.run-1')).toEqual({ ensemble: 'koto', workflow: 'run-1' });
    expect(error(() => parseWorkflowRef('koto')).message).toContain('expected ENSEMBLE.WORKFLOW');
    expect(error(() => parseWorkflowRef('a.b.c')).message).toContain("workflow name 'b.c'");
    expect(error(() => checkName('ensemble', '../x')).exitCode).toBe(2);
    expect(error(() => checkName('ensemble', '-R')).status).toBe(400);
    expect(parseCount('-R', '3', 1)).toBe(3);
    expect(error(() => parseCount('-R', '0', 1)).message).toBe(
      "-R '0': expected an integer from 1 to 1000000",
    );
    expect(error(() => parseCount('-p', '2x', 0)).exitCode).toBe(2);
  });
});

describe('file patterns', () => {
  it('match file names in a literal absolute directory', () => {
    const p = parseFilePattern('/data/in/*.txt');
    expect(p.dir).toBe('/data/in');
    expect(newMatches(p, ['b.txt', 'a.txt', 'a.txt.part', '.hidden.txt', 'c.dat'])).toEqual([
      'a.txt',
      'b.txt',
    ]);
    const q = parseFilePattern('/d/run-??.[ch5]*');
    expect(newMatches(q, ['run-01.h5', 'run-1.h5', 'run-02.c', 'run-03.x'])).toEqual([
      'run-01.h5',
      'run-02.c',
    ]);
    expect(newMatches(parseFilePattern('/d/[!a]*'), ['a1', 'b1'])).toEqual(['b1']);
    expect(newMatches(parseFilePattern('/d/a+b(1).txt'), ['a+b(1).txt', 'aab(1).txt'])).toEqual([
      'a+b(1).txt',
    ]);
  });

  it('refuses relative patterns and wildcards in the directory', () => {
    expect(error(() => parseFilePattern('in/*.txt')).message).toContain('expected an absolute path');
    expect(error(() => parseFilePattern('/data/*/x.txt')).message).toContain(
      'wildcards are allowed in the file name only',
    );
    expect(error(() => parseFilePattern('/data/')).message).toContain('expected a file name or glob');
    expect(error(() => parseFilePattern('/data/[ab')).message).toContain("'[' without a closing ']'");
  });
});

describe('state machine', () => {
  it('allows replan, rerun and abort only from their states', () => {
    expect(applyAction('e.w', 'PLAN_FAILED', 'replan')).toBe('READY');
    expect(applyAction('e.w', 'FAILED', 'rerun')).toBe('QUEUED');
    expect(applyAction('e.w', 'RUNNING', 'abort')).toBe('ABORTED');
    expect(applyAction('e.w', 'PLANNING', 'abort')).toBe('ABORTED');
    const e = error(() => applyAction('e.w', 'SUCCESSFUL', 'abort'));
    expect(e.message).toBe(
      'e.w is SUCCESSFUL: abort applies to a workflow that is READY, PLANNING, QUEUED, RUNNING',
    );
    expect(e.exitCode).toBe(1);
    expect(e.status).toBe(409);
    expect(error(() => applyAction('e.w', 'RUNNING', 'rerun')).status).toBe(409);
    expect(error(() => applyAction('e.w', 'ABORTED', 'rerun', false)).message).toContain('and was planned');
  });
});

describe('trigger timing', () => {
  it('fires one interval after the last planned firing, never in the past', () => {
    expect(nextFireTime({ nextFire: 100, interval: 10 }, 101)).toBe(110);
    expect(nextFireTime({ nextFire: 100, interval: 10 }, 500)).toBe(510);
  });
});

describe('the submit dir a plan command prints', () => {
  const root = mkdtempSync(join(tmpdir(), 'em-parse-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'run0001'));
  writeFileSync(join(root, 'run0001', 'plan.yml'), 'jobs: []\n');

  it('is the last line, or a pegasus-run line, relative to the base dir; it must hold a plan.yml', () => {
    expect(submitDirFromOutput(`planning...\n${root}/run0001\n`, '/')).toBe(`${root}/run0001`);
    expect(submitDirFromOutput('run0001\n', root)).toBe(`${root}/run0001`);
    expect(submitDirFromOutput(`  pegasus-run ${root}/run0001\nmore text\n`, '/')).toBe(`${root}/run0001`);
    expect(submitDirFromOutput(`${root}\n`, '/')).toBeUndefined();
    expect(submitDirFromOutput('', root)).toBeUndefined();
  });
});
